"""What a person on a phone feels: bytes and first contentful paint, throttled.

Debian's Chromium through Playwright (never `playwright install`), with the network
slowed through the DevTools protocol to about 400 kbit/s and 400 ms round trips.
Each page loads cold (a new browser context: empty cache) and then warm (again, in
the same context).
"""

import os
from urllib.parse import urlsplit

from bench.cases import Bench

CHROMIUM = os.environ.get("MUTUAL_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
KBIT = 400
RTT_MS = 400
AGREED_BYTES = 60_000
FCP_MS = 1500.0
FCP = """() => new Promise(resolve => {
  const found = () => performance.getEntriesByName('first-contentful-paint')[0];
  const wait = () => found() ? resolve(found().startTime) : setTimeout(wait, 20);
  wait();
})"""


def available() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


class Traffic:
    """Requests a page made, from the DevTools protocol's network events."""

    def __init__(self) -> None:
        self.requests: dict[str, dict] = {}

    def sent(self, event: dict) -> None:
        self.requests[event["requestId"]] = {
            "url": event["request"]["url"],
            "bytes": 0,
            "chunks": 0,
            "cached": False,
            "headers": {},
        }

    def received(self, event: dict) -> None:
        item = self.requests.get(event["requestId"])
        if item is not None:
            item["headers"] = {
                k.lower(): v for k, v in event["response"]["headers"].items()
            }
            item["cached"] = bool(
                event["response"].get("fromDiskCache")
                or event["response"].get("fromPrefetchCache")
            )
            item["type"] = event.get("type", "")

    def data(self, event: dict) -> None:
        item = self.requests.get(event["requestId"])
        if item is not None:
            item["chunks"] += event.get("encodedDataLength", 0)

    def finished(self, event: dict) -> None:
        item = self.requests.get(event["requestId"])
        if item is not None:
            item["bytes"] = event["encodedDataLength"]
            item["done"] = True

    def from_cache(self, event: dict) -> None:
        item = self.requests.get(event["requestId"])
        if item is not None:
            item["cached"] = True

    def summary(self) -> dict:
        on_wire = [
            r
            for r in self.requests.values()
            if not r["url"].startswith("data:") and not r["cached"]
        ]
        sizes = [r["bytes"] if r.get("done") else r["chunks"] for r in on_wire]
        hosts = {urlsplit(r["url"]).hostname for r in self.requests.values()}
        return {
            "bytes": sum(sizes),
            "requests": sum(1 for size in sizes if size),  # memory-cache hits are 0
            "other_hosts": len(hosts - {"127.0.0.1", None}),
        }


def _load(context, url: str, traffic: Traffic) -> float:
    page = context.pages[0] if context.pages else context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": RTT_MS,
            "downloadThroughput": KBIT * 1000 / 8,
            "uploadThroughput": KBIT * 1000 / 8,
        },
    )
    cdp.on("Network.requestWillBeSent", traffic.sent)
    cdp.on("Network.responseReceived", traffic.received)
    cdp.on("Network.dataReceived", traffic.data)
    cdp.on("Network.loadingFinished", traffic.finished)
    cdp.on("Network.requestServedFromCache", traffic.from_cache)
    page.goto(url, wait_until="load", timeout=60_000)
    fcp = float(page.evaluate(FCP))
    page.wait_for_timeout(1500)  # late fetches: the live stream, presence
    cdp.detach()
    return fcp


def _checks(results: list[dict], everything: list[Traffic]) -> list[dict]:
    agreed = next(
        r for r in results if r["page"] == "agreed plan" and r["load"] == "cold"
    )
    static_plain, static_short, pages_cached = set(), set(), set()
    for traffic in everything:
        for item in traffic.requests.values():
            path = urlsplit(item["url"]).path
            headers = item["headers"]
            if not headers:
                continue
            if path.startswith("/static/"):
                textual = path.endswith((".css", ".js"))
                if textual and headers.get("content-encoding") != "gzip":
                    static_plain.add(path)
                if "immutable" not in headers.get("cache-control", ""):
                    static_short.add(path)
            elif item.get("type") == "Document" and "no-store" not in headers.get(
                "cache-control", ""
            ):
                pages_cached.add(path)
    other = sum(r["other_hosts"] for r in results)
    return [
        {
            "what": "agreed plan, first load, bytes",
            "figure": f"{agreed['bytes']:,} B (target <= {AGREED_BYTES:,})",
            "met": agreed["bytes"] <= AGREED_BYTES,
        },
        {
            "what": "agreed plan, first load, FCP",
            "figure": f"{agreed['fcp_ms']:.0f} ms (target < {FCP_MS:.0f})",
            "met": agreed["fcp_ms"] < FCP_MS,
        },
        {"what": "requests to other hosts", "figure": str(other), "met": other == 0},
        {
            "what": "static text files gzip-compressed",
            "figure": ", ".join(sorted(static_plain)) or "all",
            "met": not static_plain,
        },
        {
            "what": "static files cached as immutable",
            "figure": ", ".join(sorted(static_short)) or "all",
            "met": not static_short,
        },
        {
            "what": "pages sent with no-store",
            "figure": ", ".join(sorted(pages_cached)) or "all",
            "met": not pages_cached,
        },
    ]


def measure(bench: Bench) -> dict:
    from playwright.sync_api import sync_playwright

    plan = bench.seeded.read
    person = plan.partners[0]
    base = bench.server.url
    targets = [
        ("home", "/"),
        ("plan", f"/plans/{plan.id}"),
        ("agreed plan", f"/plans/{plan.id}/agreed"),
    ]
    results: list[dict] = []
    everything: list[Traffic] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for name, path in targets:
                context = browser.new_context(
                    viewport={"width": 390, "height": 844}, is_mobile=True
                )
                context.add_cookies(
                    [{"name": "mutual_sid", "value": person.token, "url": base}]
                )
                for load in ("cold", "warm"):
                    traffic = Traffic()
                    fcp = _load(context, base + path, traffic)
                    everything.append(traffic)
                    results.append(
                        {"page": name, "load": load, "fcp_ms": fcp, **traffic.summary()}
                    )
                context.close()
        finally:
            browser.close()
    return {
        "throughput_kbit": KBIT,
        "rtt_ms": RTT_MS,
        "pages": results,
        "checks": _checks(results, everything),
    }
