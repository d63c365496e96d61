"""The FastAPI app Airflow's API server mounts at ``/zoom-sam``: the JSON API, the pages, their files.

Errors answer in the language of the route: JSON under ``/api/``, a plain page elsewhere. A
missing or bad token is 401 everywhere; the page links to Airflow's login and never redirects,
so a browser whose cookie the auth manager refuses cannot loop between login and the page.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException  # also what routing raises (unknown path, wrong method)

from zoom_sam.ui import api, connect, pages
from zoom_sam.ui.access import NotAuthenticated
from zoom_sam.ui.rendering import STATIC_DIR, render


def create_app() -> FastAPI:
    app = FastAPI(title="zoom-sam views", docs_url=None, redoc_url=None,
                  description="Views of zoom-sam's warehouses and its Zoom connections (docs/ui.md)")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(connect.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(HTTPException, _refused)
    app.add_exception_handler(RequestValidationError, _invalid)
    return app


def _is_api(request: Request) -> bool:
    path, mounted_at = request.url.path, request.scope.get("root_path", "")
    return path.removeprefix(mounted_at).startswith("/api/")


def _error(request: Request, status: int, message: str, **extra) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message, **extra}, status_code=status,
                            headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
    login_url = None
    if status == 401:
        from airflow.api_fastapi.app import get_auth_manager

        login_url = get_auth_manager().get_url_login(next_url=str(request.url))
    return render(request, "error.html", {"status": status, "message": message, "login_url": login_url},
                  status_code=status)


async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
    return _error(request, 401, str(exc))


async def _refused(request: Request, exc: HTTPException) -> Response:
    return _error(request, exc.status_code, str(exc.detail))


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    """422 whose message names each parameter that did not validate (``page_size: ...``)."""
    errors = jsonable_encoder(exc.errors())
    by_parameter: dict[str, list[str]] = {}
    for error in errors:  # a union type (a word or '') gives one error per alternative
        by_parameter.setdefault(str(error["loc"][-1] if len(error["loc"]) < 3 else error["loc"][1]), []).append(error["msg"])
    message = "; ".join(f"{name}: {' or '.join(dict.fromkeys(msgs))}" for name, msgs in by_parameter.items())
    return _error(request, 422, message, errors=errors)
