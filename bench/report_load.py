#!/usr/bin/env python3
"""The report at 1,000 features: its size, and how long Chromium takes to
open it and to filter and sort it (bench/RESULTS.md).

    python3 bench/report_load.py [SKEWER] [OUT_DIR]

Writes a seeded CSV of 1,000 columns (500 numeric, 500 with 30 values) and
400 rows, runs `skewer report` on it against itself, then opens the page
three times through ChromeDriver (/usr/bin/chromedriver, Debian's chromium)
and prints the navigation timings. Only the standard library is needed.
"""
import json
import os
import random
import subprocess
import sys
import time
import urllib.request

skewer = sys.argv[1] if len(sys.argv) > 1 else "target/release/skewer"
out = sys.argv[2] if len(sys.argv) > 2 else "/tmp/skewer-report-bench"
os.makedirs(out, exist_ok=True)
csv, page = os.path.join(out, "wide.csv"), os.path.join(out, "wide.html")

rng = random.Random(1)
cols = [f"num_{i}" if i % 2 == 0 else f"cat_{i}" for i in range(1000)]
with open(csv, "w") as f:
    f.write(",".join(cols) + "\n")
    for _ in range(400):
        f.write(",".join(
            f"{rng.gauss(0, 1) * (1 + i):.4f}" if i % 2 == 0 else f"v{rng.randrange(30)}"
            for i in range(1000)) + "\n")
t = time.time()
subprocess.run([skewer, "report", csv, "--base", csv, "-o", page, "--quiet"], check=True)
print(f"skewer report: {time.time() - t:.2f} s, {os.path.getsize(page) / 1e6:.2f} MB")

port = 9555
driver = subprocess.Popen(["chromedriver", f"--port={port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def req(method, path, body=None):
    r = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(r))["value"]


try:
    for _ in range(50):
        try:
            req("GET", "/status")
            break
        except OSError:
            time.sleep(0.1)
    args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={out}/chromium", "--window-size=1280,1000"]
    s = req("POST", "/session", {"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})["sessionId"]
    for _ in range(3):
        req("POST", f"/session/{s}/url", {"url": "file://" + os.path.abspath(page)})
        nav = req("POST", f"/session/{s}/execute/sync", {"args": [], "script":
                  "const n = performance.getEntriesByType('navigation')[0];"
                  "return [n.domContentLoadedEventEnd, n.loadEventEnd];"})
        t = time.time()
        req("POST", f"/session/{s}/execute/sync", {"args": [], "script":
            "const d = document.getElementById('drifted-only'); d.click(); d.click();"
            "document.querySelector('#features th button').click();"})
        print(f"DOMContentLoaded {nav[0]:.0f} ms, load {nav[1]:.0f} ms; "
              f"filter on and off, then sort: {(time.time() - t) * 1000:.0f} ms")
    req("DELETE", f"/session/{s}")
finally:
    driver.kill()
