"""The book: builds with -W, shows the computed figures, and works offline in a real browser.

One build per session (`tito book`, cached execution, so it is quick when nothing changed). The browser test
serves book/_build/html on 127.0.0.1, opens the Module 06 page in Debian's headless Chromium (installed here
with apt-get when /usr/bin/chromium is missing) and drives it over the DevTools protocol with websocket-client.
"""
import base64
import functools
import html
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tito.registry import MODULES, ROOT

HTML = ROOT / "book" / "_build" / "html"
PAGE06 = HTML / "modules" / "06_autograd.html"
SCREENSHOT = ROOT / "book" / "_build" / "screenshots" / "06_autograd.png"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def book():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-m", "tito", "book"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, (
        f"`tito book` failed (warnings are errors):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return HTML


def _text(path):
    """The visible text of an HTML file, whitespace collapsed."""
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


def test_every_registry_module_has_a_page(book):
    for module in MODULES:
        page = book / "modules" / f"{module.slug}.html"
        assert page.exists(), f"no book page for {module.slug}"
        assert f"Module {module.number}: {module.title}" in _text(page)
    index = _text(book / "index.html")
    for module in MODULES:          # the introduction's module table is read from the registry
        assert f"tinytorch.{module.export}" in index


def test_module06_shows_the_glued_figures(book):
    text = _text(PAGE06)
    assert "{glue" not in text and "glue:" not in text
    expected = {
        "linear layer total": "≈ 3.1 MB",
        "x": "32 × 512 64 KB",
        "W": "512 × 768 1,536 KB",
        "Q1 total": "≈ 0.41 MB",
        "Q3 total": "= 16 GB",
        "Q4 batch": "18.4 MB",
        "Q2 backward": "≈ 16 ms",
        "y = 3x + 1": "The printed gradient, [3.]",
        "x.grad": "x.grad = [[66.0, 88.0]]",
        "W.grad": "W.grad = [[22.0], [44.0]]",
    }
    for what, snippet in expected.items():
        assert snippet in text, f"{what}: {snippet!r} not in the built Module 06 page"
    # the measured recursive-vs-topological comparison is there, with numbers
    assert re.search(r"recursive walk made [\d,]+ calls and took [\d,.]+ ms against [\d.]+ ms", text)


def test_api_reference_lists_every_public_name(book):
    from tinytorch.core import autograd

    text = _text(PAGE06)
    for name in autograd.__all__:
        assert name in text, f"API reference misses tinytorch.core.autograd.{name}"


def test_no_page_references_another_site_for_resources(book):
    pattern = re.compile(r"<(?:script|link|img|iframe|source|audio|video)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//",
                         re.I)
    for page in book.rglob("*.html"):
        match = pattern.search(page.read_text(encoding="utf-8"))
        assert match is None, f"{page.relative_to(book)} loads an external resource: {match.group(0)}"
    assert (book / "_static" / "vendor" / "mermaid" / "LICENSE").exists()
    assert (book / "_static" / "vendor" / "mathjax" / "LICENSE").exists()


# ----------------------------------------------------------------------------------------------- browser

def _ensure_chromium():
    if not Path(CHROMIUM).exists():
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
            result = subprocess.run(command, capture_output=True, text=True,
                                    env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
            if result.returncode != 0:
                pytest.fail(f"could not install Debian's chromium ({' '.join(command)}):\n{result.stderr[-2000:]}")
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(book):
    handler = functools.partial(_QuietHandler, directory=str(book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _wait(condition, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class CDP:
    """A minimal Chrome DevTools Protocol client over websocket-client: commands plus an event log."""

    def __init__(self, ws_url):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def send(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def pump(self, seconds=0.05):
        """Collect the events that arrive within `seconds`."""
        import websocket

        self.ws.settimeout(seconds)
        try:
            while True:
                message = json.loads(self.ws.recv())
                if "method" in message:
                    self.events.append(message)
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self.ws.settimeout(30)

    def js(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {expression}\n{result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        self.ws.close()


@pytest.fixture(scope="module")
def browser(server):
    chromium = _ensure_chromium()
    profile = tempfile.mkdtemp(prefix="tinytorch-chromium-")
    process = subprocess.Popen([
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
        "--disable-default-apps", f"--user-data-dir={profile}", "--remote-debugging-port=0",
        "--remote-allow-origins=*", "--window-size=1280,1600",
        # nothing but localhost resolves: a request to any other host fails (and is logged below)
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        "about:blank",
    ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        _wait(lambda: port_file.exists() and port_file.read_text().strip(), 30, "Chromium's DevTools port")
        port = int(port_file.read_text().split()[0])

        def page_target():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                return next((t for t in json.load(response) if t.get("type") == "page"), None)

        target = _wait(page_target, 15, "a Chromium page target")
        cdp = CDP(target["webSocketDebuggerUrl"])
        for domain in ("Page", "Network", "Runtime", "Log"):
            cdp.send(f"{domain}.enable")
        yield cdp
        cdp.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_module06_in_a_real_browser(browser, server):
    cdp = browser
    url = f"{server}/modules/06_autograd.html"
    cdp.send("Page.navigate", url=url)

    def loaded():
        cdp.pump()
        return any(e["method"] == "Page.loadEventFired" for e in cdp.events)

    _wait(loaded, 30, "the page's load event")

    # mermaid renders lazily, when the diagram is visible: scroll to it, then wait for the SVG
    cdp.js("document.querySelector('.mermaid').scrollIntoView({block: 'center'})")
    svg = _wait(lambda: cdp.js("(() => { const s = document.querySelector('.mermaid svg');"
                               " return s && s.querySelectorAll('g.node').length; })()"),
                30, "the mermaid diagram to render as SVG", interval=0.2)
    assert svg >= 5, f"the mermaid SVG has {svg} nodes, expected the 5 boxes of the diagram"
    assert cdp.js("document.querySelector('.mermaid svg').textContent.includes('enable_autograd')")

    # MathJax typeset the formulas (served locally)
    _wait(lambda: cdp.js("document.querySelectorAll('mjx-container').length"), 30, "MathJax to typeset")

    # the tab set switches: click the PyTorch label, its content shows and the tinytorch one hides
    state = ("(() => { const set = document.querySelector('.sd-tab-set');"
             " const c = set.querySelectorAll(':scope > .sd-tab-content');"
             " return [getComputedStyle(c[0]).display, getComputedStyle(c[1]).display]; })()")
    first, second = cdp.js(state)
    assert first != "none" and second == "none", (first, second)
    cdp.js("document.querySelector('.sd-tab-set > label:nth-of-type(2)').click()")
    first, second = _wait(lambda: (lambda s: s if s[0] == "none" and s[1] != "none" else None)(cdp.js(state)),
                          5, "the PyTorch tab to show")
    assert "import torch" in cdp.js("document.querySelectorAll('.sd-tab-set > .sd-tab-content')[1].innerText")

    # a dropdown answer opens on click and shows its computed content
    assert cdp.js("document.querySelectorAll('details.sd-dropdown').length") == 5
    assert cdp.js("document.querySelector('details.sd-dropdown').open") is False
    cdp.js("const d = document.querySelector('details.sd-dropdown'); d.scrollIntoView();"
           " d.querySelector('summary').click()")
    _wait(lambda: cdp.js("document.querySelector('details.sd-dropdown').open"), 5, "the dropdown to open")
    answer = cdp.js("document.querySelector('details.sd-dropdown').innerText")
    assert "0.41 MB" in answer, answer

    # screenshot of the diagram area
    cdp.js("document.querySelector('.mermaid').scrollIntoView({block: 'start'}); window.scrollBy(0, -120)")
    cdp.pump(0.3)
    shot = cdp.send("Page.captureScreenshot", format="png")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(base64.b64decode(shot["data"]))

    # nothing left localhost, and the console stayed clean
    cdp.pump(0.3)
    requests = [e["params"]["request"]["url"] for e in cdp.events if e["method"] == "Network.requestWillBeSent"]
    assert any(u.endswith("mermaid.esm.min.mjs") for u in requests), "mermaid was not loaded from the site"
    assert any("/vendor/mathjax/" in u for u in requests), "MathJax was not loaded from the site"
    outside = [u for u in requests if not u.startswith((server + "/", "data:", "blob:", "about:"))]
    assert not outside, f"requests left localhost: {outside}"
    failed = [e["params"] for e in cdp.events if e["method"] == "Network.loadingFailed"]
    assert not failed, f"failed requests: {failed}"
    errors = [e["params"] for e in cdp.events
              if (e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert"))
              or e["method"] == "Runtime.exceptionThrown"
              or (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert not errors, f"console errors: {json.dumps(errors, indent=1)[:3000]}"
