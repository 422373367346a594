"""The assessment report in a real Chromium: it draws every chart from the file alone, with no
console error and no request to anywhere (the report must work offline)."""

from __future__ import annotations

from pathlib import Path

from carepath.assessment import assess, load_costs, parse_shift, render_html
from carepath.assessment.scenario_model import Scenario
from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, need_browser
from tests.unit.assessment.hand_built import STANDING, intake


async def test_the_report_works_offline_in_chromium(tmp_path: Path) -> None:
    # given a report with a scenario, written to a file
    need_browser()
    from playwright.async_api import async_playwright

    scenario = Scenario(name="billing by email", shifts=[parse_shift("billing:voice>email:50%")])
    summary = assess(intake(STANDING), load_costs(), [scenario])
    report = tmp_path / "report.html"
    report.write_text(render_html(summary), encoding="utf-8")
    problems: list[str] = []
    requests: list[str] = []

    # when Chromium opens it
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1000})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: requests.append(request.url))
            await page.goto(report.as_uri())
            await page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 11"
            )
            drawn = await page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "assessment-report.png"), full_page=True)
        finally:
            await browser.close()

    # then every chart is drawn, nothing failed, and nothing but the file itself was fetched
    assert drawn == 11
    assert problems == []
    assert [url for url in requests if not url.startswith("data:")] == [report.as_uri()]
