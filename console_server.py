"""The console's HTTP server: Streamlit serving app.py, plus the two routes that set and clear the session cookie.

Start it with `streamlit run console_server.py` (what `make run` does). `streamlit run app.py` still works,
but then a reload signs the user out (no cookie can be set without these routes).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from streamlit.starlette import App

from console.handoff import COOKIE_NAME, HANDOFF_PATH, SIGN_OUT_PATH, claim

_MAX_NONCE = 64


def _cross_site(request: Request) -> bool:
    """A request another site's page made (it could plant its own session in this browser): refused."""
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host", "")


async def _set_cookie(request: Request) -> Response:
    if _cross_site(request):
        return Response(status_code=403)
    nonce = (await request.body())[:_MAX_NONCE].decode("ascii", "replace")
    claimed = claim(nonce)
    if claimed is None:
        return Response(status_code=404)
    token, max_age = claimed
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE_NAME, token, max_age=int(max_age), path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def _clear_cookie(request: Request) -> Response:
    if _cross_site(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response


app = App(str(Path(__file__).resolve().parent / "app.py"), routes=[
    Route(HANDOFF_PATH, _set_cookie, methods=["POST"]),
    Route(SIGN_OUT_PATH, _clear_cookie, methods=["POST"]),
])
