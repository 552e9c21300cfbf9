"""The planning page (/plan) end to end in headless Chromium, against the real app on a real
port: sign in, compose (population and expected visits before saving), preview the merged
form, save, draw, substitute an inspector, reload, enter a result as an inspector of the
team, approve it as a reviewer of the team's department (never the planner, never whoever
entered it), publish, look at the grid and the charts. Saves a screenshot of the task
page to test-artifacts/plan-task.png."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from adapters.settings import ROOT, Settings
from gateway.app import create_app
from gateway.auth import AuthConfig, issue_token
from planning.calendar import official_calendar
from tests.browser import chromium, serve
from tests.conftest import AUTH, token

ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOT = ARTIFACTS / "plan-task.png"
WAIT = 30_000  # ms; the longest step (reading the register, the draw) takes a second or two


def tid(name: str) -> str:
    return f"[data-testid={name}]"


async def ints(page: Any, selector: str, attribute: str) -> dict[str, int]:
    """{grade: int(attribute)} of the rows matched (tables and charts carry data-grade)."""
    script = "(rows, a) => Object.fromEntries(rows.map(r => [r.dataset.grade, +r.getAttribute(a)]))"
    return await page.eval_on_selector_all(selector, script, attribute)


async def test_plan_page_compose_preview_draw_record_publish(settings: Settings) -> None:
    app = create_app(settings, AUTH)
    title = f"e2e 联合抽查 {uuid.uuid4().hex[:6]}"
    async with serve(app) as base, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.set_default_timeout(WAIT)

        # -- sign in: the page explains tokens; the hub's refusal is shown in words ---------
        await page.goto(f"{base}/plan")
        signin = page.locator(tid("signin"))
        await signin.wait_for()
        assert "登录" in await signin.locator("h2").inner_text()
        assert "Authorization: Bearer" in await signin.inner_text()
        await page.click(tid("lang-toggle"))
        assert await signin.locator("h2").inner_text() == "Sign in"
        await page.click(tid("lang-toggle"))
        assert await signin.locator("h2").inner_text() == "登录"

        other_key = AuthConfig(AUTH.issuer, AUTH.audience, hs256_secret=uuid.uuid4().hex * 2)
        forged = issue_token(other_key, "mallory", "market", ["planner"])
        await signin.locator(tid("token-input")).fill(forged)
        await signin.locator(tid("token-add")).click()
        refusal = signin.locator(tid("token-error"))
        await refusal.wait_for()
        assert "身份验证失败" in await refusal.inner_text()
        assert "token signature does not verify" in await refusal.inner_text()
        problems.clear()  # the browser logs the 401 it was meant to get

        await signin.locator(tid("token-input")).fill(token(sub="planner-e2e"))
        await signin.locator(tid("token-add")).click()
        await page.locator(tid("step-compose")).wait_for()
        assert "planner-e2e" in await page.inner_text(tid("identity-summary"))
        assert "规划人员" in await page.inner_text(tid("identity-summary"))

        # -- ① compose: population per grade and expected visits before saving --------------
        await page.fill(tid("title"), title)
        for grade, ratio in {"A": "5", "B": "10", "C": "30", "D": "100"}.items():
            await page.fill(tid(f"ratio-{grade}"), ratio)
        await page.fill(tid("floor"), "3")
        await page.fill(tid("cap"), "60")
        await page.fill(tid("team-size"), "2")
        quality = page.locator(f"{tid('step-compose')} {tid('census-quality')}")
        await quality.wait_for()
        # The test register (400 entities) is read to its end: the counts are exact.
        assert await quality.get_attribute("data-exact") == "true"
        census_rows = f"{tid('step-compose')} {tid('census-table')} tbody tr"
        population = await ints(page, census_rows, "data-population")
        expected = await ints(page, census_rows, "data-expected")
        assert set(population) == {"A", "B", "C", "D"} and sum(population.values()) > 0
        total_expected = int(await page.get_attribute(tid("expected-visits"), "data-expected"))
        assert total_expected == sum(expected.values()) and 3 <= total_expected <= 60
        assert f"预计检查 {total_expected} 户" in await page.inner_text(tid("expected-visits"))

        # -- ② preview the merged form of a sample entity -----------------------------------
        await page.click(tid("preview-button"))
        form = page.locator(tid("preview-form"))
        await form.wait_for()
        raw = int(await page.locator(f"{tid('raw-count')} b").inner_text())
        merged = int(await page.locator(f"{tid('merged-count')} b").inner_text())
        assert merged < raw, "the first sample is one whose departments' items merge"
        shared = form.locator("tbody tr:not([data-departments='1'])")
        assert await shared.count() >= 1
        assert "《" in await shared.first.inner_text(), "each requirement shows its legal basis"
        assert "联合检查 1 次" in await page.inner_text(tid("preview-savings"))

        # -- save: a draft with its seed commitment --------------------------------------------
        await page.click(tid("save"))
        await page.wait_for_url(re.compile(r"#task=[0-9a-f-]{36}$"))
        task_id = page.url.rsplit("=", 1)[1]
        await page.locator(f"{tid('task-status')}[data-status=DRAFT]").wait_for()
        assert await page.inner_text(tid("task-title")) == title
        commitment = await page.inner_text(tid("seed-commitment"))
        assert re.fullmatch(r"[0-9a-f]{64}", commitment)
        assert "抽取后公开" in await page.inner_text(tid("seed"))
        draft_expected = page.locator(f"{tid('step-draw')} {tid('expected-visits')}")
        assert int(await draft_expected.get_attribute("data-expected")) == total_expected

        # -- ③ draw: revealed seed, the sample as estimated, teams ---------------------------
        await page.click(tid("draw-button"))
        await page.locator(tid("population-table")).wait_for()
        await page.locator(f"{tid('task-status')}[data-status=DRAWN]").wait_for()
        seed = (await page.inner_text(tid("seed"))).split()[0]
        assert hashlib.sha256(bytes.fromhex(seed)).hexdigest() == commitment
        await page.locator(f"{tid('seed-check')}.ok").wait_for()
        drawn_rows = f"{tid('population-table')} tbody tr"
        assert await ints(page, drawn_rows, "data-population") == population
        assert await ints(page, drawn_rows, "data-drawn") == expected
        assert int(await page.inner_text(tid("drawn-total"))) == total_expected
        assert "分别检查需" in await page.inner_text(tid("savings"))
        assert "抽取完成，用时" in await page.inner_text(tid("draw-done"))
        table = page.locator(tid("drawn-table"))
        await table.locator("tbody tr").first.wait_for()
        assert await table.locator("tbody tr").count() == min(10, total_expected)
        first = table.locator("tbody tr").first
        visit_id = await first.get_attribute("data-visit")
        members = first.locator("li[data-inspector]")
        assert await members.count() >= 2

        # -- ⑤ look: every drawn visit on the district grid, the chart per grade -------------
        grid = page.locator(tid("district-grid"))
        await grid.wait_for()
        counts = await grid.locator(".district").evaluate_all(
            "cells => cells.map(c => Number(c.dataset.count))"
        )
        assert len(counts) >= 10 and sum(counts) == total_expected
        assert await grid.locator(".dot").count() == total_expected
        chart = f"{tid('population-chart')} g[data-grade]"
        assert await ints(page, chart, "data-drawn") == expected
        assert await ints(page, chart, "data-population") == population

        # -- substitute an inspector: the reason is required, the original stays in history --
        leaving = members.last
        out_id = await leaving.get_attribute("data-inspector")
        await leaving.locator(tid("substitute")).click()
        await first.locator(tid("substitute-confirm")).click()
        refused = first.locator(tid("substitute-error"))
        await refused.wait_for()
        assert "REASON_REQUIRED" in await refused.inner_text()
        assert "请写明原因" in await refused.inner_text()
        await first.locator(tid("substitute-reason")).fill("病假")
        await first.locator(tid("substitute-confirm")).click()
        replaced = table.locator(f"tr[data-visit='{visit_id}'] {tid('replaced')}")
        await replaced.wait_for()
        assert out_id in await replaced.inner_text() and "病假" in await replaced.inner_text()
        row = table.locator(f"tr[data-visit='{visit_id}']")
        assert out_id not in await row.locator("li[data-inspector]").evaluate_all(
            "lis => lis.map(li => li.dataset.inspector)"
        )

        # -- a reload loses nothing: the task lives in the hub ------------------------------
        await page.reload()
        await page.locator(f"{tid('task-status')}[data-status=DRAWN]").wait_for()
        assert page.url.endswith(f"#task={task_id}")
        await table.locator(f"tr[data-visit='{visit_id}'] {tid('replaced')}").wait_for()
        team_dept = await table.locator(
            f"tr[data-visit='{visit_id}'] li[data-inspector]"
        ).first.get_attribute("data-dept")

        # -- ④ enter a result: a planner may not; an inspector of the team may ---------------
        follow = page.locator(tid("follow-table"))
        await follow.locator(f"tr[data-visit='{visit_id}'] {tid('visit-enterResult')}").click()
        dialog = page.locator(tid("visit-dialog"))
        await dialog.locator(tid("need-officer")).wait_for()
        assert team_dept in await dialog.locator(tid("need-officer")).inner_text()
        await dialog.locator(tid("dialog-close")).click()

        await page.click(tid("identity-summary"))
        panel = page.locator("#identity-panel")
        officer = token(team_dept, ("officer", "inspector"), sub="inspector-e2e")
        await panel.locator(tid("token-input")).fill(officer)
        await panel.locator(tid("token-add")).click()
        await panel.locator(tid("token-added")).wait_for()
        assert await panel.locator(f"{tid('identity-list')} li").count() == 2
        await page.click(tid("identity-summary"))

        await page.locator(tid("follow-table")).wait_for()
        await follow.locator(f"tr[data-visit='{visit_id}'] {tid('visit-enterResult')}").click()
        entry = dialog.locator(f"{tid('result-form')} form")
        await entry.wait_for()
        assert "inspector-e2e" in await entry.locator(tid("result-identity")).inner_text()
        await entry.locator(tid("result-category")).select_option("PROBLEM_CORRECTED")
        await entry.locator(tid("result-outcome")).first.select_option("NON_COMPLIANT")
        await entry.locator(tid("result-note")).first.fill("消防通道堵塞，已责令改正")
        # Concluded on the day of the draw: between the draw and today, as the rules want.
        await entry.locator(tid("result-concluded")).fill(date.today().isoformat())
        await entry.locator(tid("result-submit")).click()
        await dialog.locator(".badge[data-state=PENDING_REVIEW]").wait_for()
        assert "发现问题已责令改正" in await dialog.locator(tid("visit-result")).inner_text()

        # -- review: not the planner, not whoever entered it; a reviewer of the department ----
        need = dialog.locator(tid("need-reviewer"))
        await need.wait_for()
        assert "inspector-e2e" in await need.inner_text()
        await dialog.locator(tid("dialog-close")).click()
        await page.click(tid("identity-summary"))
        checker = token(team_dept, ("officer", "reviewer"), sub="reviewer-e2e")
        await panel.locator(tid("token-input")).fill(checker)
        await panel.locator(tid("token-add")).click()
        await panel.locator(tid("token-added")).wait_for()
        await page.click(tid("identity-summary"))
        await follow.locator(f"tr[data-visit='{visit_id}'] {tid('visit-review')}").click()
        review = dialog.locator(tid("review-form"))
        await review.locator(tid("review-identity")).wait_for()
        assert "reviewer-e2e" in await review.locator(tid("review-identity")).inner_text()
        await dialog.locator(tid("review-approve")).click()
        await dialog.locator(".badge[data-state=APPROVED]").wait_for()
        await dialog.locator(tid("dialog-close")).click()
        approved = f"{tid('state-counts')} [data-state=APPROVED][data-count='1']"
        await page.locator(approved).wait_for()

        # -- publish: refused while visits are unfinished, then closed with a reason ----------
        await page.click(tid("publish-button"))
        incomplete = page.locator(tid("publish-error"))
        await incomplete.wait_for()
        assert "RESULTS_INCOMPLETE" in await incomplete.inner_text()
        assert "不能公示" in await incomplete.inner_text()
        await page.check(tid("close-unfinished"))
        await page.fill(tid("close-reason"), "窗口期结束，其余企业转入下一批次")
        await page.click(tid("publish-button"))
        await page.locator(f"{tid('task-status')}[data-status=PUBLISHED]").wait_for()
        await page.click(f"{tid('state-counts')} [data-state=PUBLISHED]")
        published = page.locator(f"{tid('follow-table')} tr[data-visit='{visit_id}']")
        await published.locator(tid("deadline")).wait_for()
        deadline = official_calendar().add_working_days(date.today(), 20)
        cell = published.locator(tid("deadline"))
        assert deadline.date.isoformat() in await cell.inner_text()
        assert await published.locator("[data-late=false]").inner_text() == "按期"
        # A deadline reaching a year without an official schedule yet is marked provisional.
        assert await cell.locator(tid("provisional")).count() == int(deadline.provisional)
        assert "其中逾期 0 户" in await page.inner_text(tid("published-summary"))
        assert "✓" in await page.inner_text(tid("audit-check"))

        # -- the task page as a picture, for the test's artifacts ------------------------------
        await page.click(f"{tid('state-counts')} .chip >> nth=0")
        await page.locator(tid("district-grid")).wait_for()
        await page.evaluate("window.scrollTo(0, 0)")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert problems == []
    assert Path(SCREENSHOT).stat().st_size > 50_000
