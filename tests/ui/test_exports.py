"""CSV and Excel downloads hold exactly the JSON rows of their filter, every page of them."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.ui.world import airflow_db, views, warehouse  # noqa: F401  (fixtures)
from zoom_sam.ui.exports import cell

TABLES = [("subscriptions", {"software_model": "zoom_webinar_500"}), ("candidates", {"state": "ready"}),
          ("jobs", {}), ("unrecognized", {}), ("subscriptions", {"q": "h1", "state": "active"})]


def _json_rows(views, table: str, params: dict) -> list[dict]:
    answer = views.get(f"/api/profiles/acme/{table}", page_size=500, **params).json()
    assert "total" not in answer or answer["total"] == len(answer["rows"])
    return answer["rows"]


def _as_text(rows: list[dict]) -> list[dict]:
    """The JSON rows as a CSV spells them: nested values as JSON text, null as nothing, the rest str()."""
    return [{k: "" if v is None else str(cell(v)) for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("table,params", TABLES)
def test_csv_is_the_json_rows(views, table, params):
    resp = views.get(f"/api/profiles/acme/{table}", format="csv", page_size=2, **params)  # paging does not apply
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == f'attachment; filename="acme-{table}.csv"'
    assert list(csv.DictReader(io.StringIO(resp.text))) == _as_text(_json_rows(views, table, params))


@pytest.mark.parametrize("table,params", TABLES)
def test_xlsx_is_the_json_rows(views, table, params):
    resp = views.get(f"/api/profiles/acme/{table}", format="xlsx", **params)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert resp.headers["content-disposition"] == f'attachment; filename="acme-{table}.xlsx"'
    sheet = load_workbook(io.BytesIO(resp.content)).active
    header, *body = [list(r) for r in sheet.iter_rows(values_only=True)]
    expected = _json_rows(views, table, params)
    assert header == list(expected[0])
    assert [dict(zip(header, r)) for r in body] == [{k: cell(v) for k, v in row.items()} for row in expected]


def test_the_position_exports_its_models(views):
    models = views.get("/api/profiles/acme/position").json()["models"]
    resp = views.get("/api/profiles/acme/position", format="csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="acme-position-2026-11-28.csv"'
    assert list(csv.DictReader(io.StringIO(resp.text))) == _as_text(models)


def test_an_empty_table_exports_an_empty_file(views):
    assert views.get("/api/profiles/fresh/subscriptions", format="csv").text.strip() == ""
    assert views.get("/api/profiles/acme/subscriptions", format="csv", q="nobody-has-this").text.strip() == ""


def test_exports_need_the_same_access(views):
    assert views.get("/api/profiles/acme/jobs", user=None, format="csv").status_code == 401
    assert views.get("/api/profiles/globex/jobs", user="acme_reader", format="xlsx").status_code == 403
