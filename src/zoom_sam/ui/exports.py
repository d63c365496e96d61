"""CSV and Excel downloads of a table: the same rows the JSON answer holds, all of the filter.

pandas writes both formats (Excel through openpyxl), so a column keeps one spelling in both.
Nested values (a candidate's evidence, its reclaim actions, a job's counts) become JSON text in
their cell, which is what a spreadsheet can hold and what a reader can parse back.
"""
from __future__ import annotations

import io
import json
from typing import Any

from fastapi.responses import Response

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def cell(value: Any) -> Any:
    """A JSON value as a spreadsheet cell: lists and objects as JSON text, the rest unchanged."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def export(rows: list[dict[str, Any]], fmt: str, filename: str) -> Response:
    """``rows`` as a ``fmt`` (csv or xlsx) download named ``filename.<fmt>``."""
    import pandas as pd

    frame = pd.DataFrame([{k: cell(v) for k, v in row.items()} for row in rows])
    if fmt == "csv":
        body: bytes = frame.to_csv(index=False).encode("utf-8")
    else:
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False, sheet_name=filename[:31], engine="openpyxl")
        body = buffer.getvalue()
    return Response(body, media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})
