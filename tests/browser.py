"""Driving the hub's web pages in a real browser: the app on a real TCP port (in the test's
event loop) and Debian's headless Chromium through Playwright.

Playwright's own browser downloads are never used (`playwright install` needs the network):
the page runs in the machine's `chromium`, found on the PATH or named by HUB_CHROMIUM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install Debian's Chromium (apt-get update && apt-get install -y chromium; "
    "fonts-wqy-microhei for readable Chinese in screenshots) and Playwright for Python "
    "(pip install playwright; never `playwright install`), or point HUB_CHROMIUM at a "
    "Chromium binary"
)


def chromium_path() -> str:
    """The Chromium binary to drive; fails the test (not skips it) when there is none."""
    named = os.environ.get("HUB_CHROMIUM")
    found = named or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not os.access(found, os.X_OK):
        pytest.fail(f"no Chromium found for the browser test: {INSTALL_HINT}", pytrace=False)
    return found


class _Server(uvicorn.Server):
    """uvicorn inside the test's event loop: the test runner keeps its signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 on a free port; yields its base URL. The socket is bound
    before the server starts, so no other process can take the port in between."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", loop="none")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        if not server.started:
            if task.done():
                task.result()  # the startup error
            raise RuntimeError("the hub did not start within 10 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        sock.close()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium browser (Playwright's async API)."""
    path = chromium_path()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail(f"Playwright for Python is not installed: {INSTALL_HINT}", pytrace=False)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
