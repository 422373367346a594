"""`carepath kb import`: Markdown files with front matter, created or updated by slug."""

from __future__ import annotations

from pathlib import Path

from tests.processes import carepath


def test_import_creates_then_updates_and_reports_bad_files(
    env: dict[str, str], tmp_path: Path
) -> None:
    # given a tenant and a folder of articles, one of them broken
    assert carepath(env, "migrate").returncode == 0
    assert carepath(env, "tenant", "create", "acme", "--name", "Acme").returncode == 0
    kb = tmp_path / "kb"
    (kb / "returns").mkdir(parents=True)
    (kb / "returns" / "refund-timing.md").write_text(
        "---\ntitle: When will I get my refund?\ncategory: Refunds\n"
        "intents: [refund_not_received]\nstatus: published\n---\nRefunds take 5 days.\n"
    )
    (kb / "cancel.md").write_text("# Cancel an order\n\nPress cancel.\n")
    (kb / "broken.md").write_text("---\ntitle: Broken\nauthor: me\n---\nText\n")
    # when they are imported
    first = carepath(env, "kb", "import", str(kb), "--tenant", "acme")
    # then the good ones are created and the bad one is named with its problem
    assert first.returncode == 1, first.stderr
    assert "2 created, 0 updated, 0 unchanged, 1 failed" in first.stdout
    assert "broken.md" in first.stderr
    assert "unknown front matter keys" in first.stderr
    # when the broken file is fixed, one article edited and all imported again
    (kb / "broken.md").write_text("---\ntitle: Fixed\n---\nText\n")
    (kb / "cancel.md").write_text("# Cancel an order\n\nPress *Cancel order*.\n")
    second = carepath(env, "kb", "import", str(kb), "--tenant", "acme")
    # then it is created, the edit updates by slug, the rest is unchanged
    assert second.returncode == 0, second.stderr
    assert "1 created, 1 updated, 1 unchanged, 0 failed" in second.stdout
    # and an unknown tenant is a clear error
    unknown = carepath(env, "kb", "import", str(kb), "--tenant", "nobody")
    assert unknown.returncode == 1
    assert "no tenant 'nobody'" in unknown.stderr
