"""The HTML pages (derivgen/documents/html.py): what a real browser shows of them.

Headless Chromium (Debian package ``chromium``; scripts/setup.sh --test installs it where missing) loads
each page with the network cut off; the test reads the DOM after the scripts ran and the page printed to
PDF: every rule label there, every formula rendered by KaTeX (none failed), no LaTeX source visible.
"""

from __future__ import annotations

import html
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from derivgen.cli import main
from derivgen.documents.html import raw_latex_html
from derivgen.input.spec import load_deck, load_sheet

from .browser import OFFLINE, Browser, chromium

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "examples" / "dnn_supplementary.yaml"
SHEET = ROOT / "examples" / "exercise_sheet.yaml"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HIDDEN_TAGS = {"script", "style", "title", "head", "annotation"}


def browse(page: Path, tmp_path: Path, *how: str) -> str:
    """Run headless Chromium on ``page`` offline (``how``: --dump-dom or --print-to-pdf=…); its stdout."""
    done = subprocess.run(
        [
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", *OFFLINE,
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", *how, page.as_uri(),
        ],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    return done.stdout


class Page(HTMLParser):
    """A page's DOM as the test reads it: its visible text, and counts of elements by class."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden from the reader)
        self.text: list[str] = []
        self.classes: dict[str, int] = {}
        self.scripts = 0
        self.labels: list[str] = []
        self._label: list[str] | None = None
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        for name in classes:
            self.classes[name] = self.classes.get(name, 0) + 1
        self.scripts += tag == "script"
        if tag in VOID:
            return
        hidden = (self.stack and self.stack[-1][1]) or tag in HIDDEN_TAGS or "katex-mathml" in classes
        self.stack.append((tag, bool(hidden)))
        if "dg-label" in classes:
            self._label = []

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
        if tag == "td" and self._label is not None:
            self.labels.append(" ".join("".join(self._label).split()))
            self._label = None

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1][1]):
            self.text.append(data)
        if self._label is not None:
            self._label.append(data)

    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


def deck_labels() -> list[str]:
    """The rule label of every derivation line the deck shows (as the presentation makes them)."""
    from derivgen.presentation.frames import present_deck
    from derivgen.presentation.printer import notation

    deck, source = load_deck(DECK)
    with notation(deck.notation):
        frames = present_deck(deck, source)
    # a frame in the substitution style shows h = g(f(x)), g, f and h' instead of its lines (as on the slides)
    return [row.label for frame in frames if not frame.substitution for row in frame.rows if row.label]


def sheet_labels() -> list[str]:
    from derivgen.documents.sheets import present_variant
    from derivgen.presentation.printer import notation

    sheet, source = load_sheet(SHEET)
    with notation(sheet.notation):
        variant = present_variant(sheet, source, 0, None, "", "exercise_sheet")
    tasks = [task for exercise in variant.exercises for task in ([exercise.task] if exercise.task else exercise.parts)]
    return [row.label for task in tasks for row in task.rows if row.label]


def assert_rendered(page: Page) -> None:
    """Every formula rendered by KaTeX, none failed, no LaTeX source in what the reader sees."""
    assert page.classes.get("katex-error", 0) == 0, "KaTeX failed to render a formula"
    assert page.classes.get("dg-math", 0) > 0
    assert page.classes.get("katex", 0) == page.classes["dg-math"], "a formula was left unrendered"
    text = page.visible()
    for raw in ("\\", "$", "\\frac", "\\left", "\\alert"):
        assert raw not in text, f"raw TeX {raw!r} visible: …{text[max(0, text.find(raw) - 80) : text.find(raw) + 80]}…"


def build(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    assert main(["build", *args, "--format", "html", "-o", str(out)]) == 0
    return out


@pytest.mark.slow
def test_the_seed_deck_renders_offline_with_every_rule_label(tmp_path):
    out = build(tmp_path, str(DECK))
    page_path = out / "dnn_supplementary.html"
    labels = deck_labels()
    assert len(labels) > 20

    page = Page(browse(page_path, tmp_path, "--dump-dom"))
    assert_rendered(page)
    assert page.labels.count("") < len(page.labels)
    shown = [label for label in page.labels if label]
    assert shown == [" ".join(label.split()) for label in labels]  # every line's label, in order
    assert page.classes.get("dg-js", 0) == 1 and page.classes.get("dg-hidden", 0) > 0  # the script ran: lines hidden

    # printed: every line revealed, the plain version
    pdf = tmp_path / "deck.pdf"
    browse(page_path, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    printed = " ".join(
        subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split()
    )
    for rule in {rule for label in labels for rule in label.split(", ")}:  # a long label wraps in its column
        assert " ".join(rule.split()) in printed, rule
    assert "\\frac" not in printed and "\\left" not in printed and "next step" not in printed


@pytest.mark.slow
def test_the_exercise_sheet_and_its_solutions_render(tmp_path):
    out = build(tmp_path, str(SHEET))
    labels = sheet_labels()
    assert labels
    sheet = Page(browse(out / "exercise_sheet.html", tmp_path, "--dump-dom"))
    solutions = Page(browse(out / "exercise_sheet-solutions.html", tmp_path, "--dump-dom"))
    for page in (sheet, solutions):
        assert_rendered(page)
    assert [label for label in solutions.labels if label] == [" ".join(label.split()) for label in labels]
    assert not sheet.labels and "Solution" not in sheet.visible() and "Name:" in sheet.visible()


def test_user_text_cannot_add_markup_or_scripts(tmp_path):
    deck = tmp_path / "evil.yaml"
    deck.write_text(
        "title: '<script>document.title = \"pwned\"</script> & <b>bold</b>'\n"
        "frames:\n"
        "  - title: '<img src=x onerror=alert(1)>'\n"
        "    intro: '</td></table><script>alert(2)</script> and $x^2$'\n"
        "    derive: x**3\n",
        encoding="utf-8",
    )
    source = (build(tmp_path, str(deck)) / "evil.html").read_text(encoding="utf-8")
    page = Page(source)
    assert page.scripts == 2  # KaTeX and the page's own script, nothing else
    assert page.classes.get("dg-math", 0) >= 3  # x^2 in the intro, the derivation's lines
    content = source.split("<script>")[0]  # the page without KaTeX's and our own script
    assert "<img" not in content and "<b>" not in content
    assert "&lt;script&gt;document.title" in content and "&lt;img src=x onerror=alert(1)&gt;" in content
    # the policy: only the two inlined scripts run, nothing is fetched
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', source)
    assert policy and html.unescape(policy.group(1)).startswith("default-src 'none'; script-src 'sha256-")
    assert not re.search(r"<[^>]*\s(?:src|href)=", content)  # no attribute that loads anything


def test_the_page_shows_the_rows_the_pdf_shows(tmp_path):
    """The maths of each line is the presentation's highlighted row, as the slides have it."""
    from derivgen.documents.html import math_html
    from derivgen.presentation.frames import present_deck
    from derivgen.presentation.printer import notation

    deck_file = tmp_path / "d.yaml"
    deck_file.write_text("title: T\nframes:\n  - title: Chain\n    derive: sin(x**2 + 1)*exp(x)\n", encoding="utf-8")
    source = (build(tmp_path, str(deck_file)) / "d.html").read_text(encoding="utf-8")
    deck, spec = load_deck(deck_file)
    with notation(deck.notation):
        (frame,) = present_deck(deck, spec)
    for row in frame.rows:
        assert str(math_html("{} = " + row.rhs_highlighted, display=True)) in source
        assert f'<td class="dg-label">{row.label}</td>' in source


def test_sheet_variants_are_named_like_the_pdfs(tmp_path):
    out = build(tmp_path, str(SHEET), "--variants", "2")
    names = sorted(path.name for path in out.glob("*.html"))
    assert names == [
        "exercise_sheet-v1-solutions.html", "exercise_sheet-v1.html",
        "exercise_sheet-v2-solutions.html", "exercise_sheet-v2.html",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("latex", "shown"),
    [
        (r"Euler: \[ e^{i\pi} + 1 = 0 \]", 'Euler: <span class="dg-math dg-display"> e^{i\\pi} + 1 = 0 </span>'),
        (r"inline $a^2$ here", 'inline <span class="dg-math dg-inline">a^2</span> here'),
        (r"\begin{tabular}{c} a \end{tabular}", "shown in the PDF versions only"),
        (r"\textbf{bold} \[x\]", "shown in the PDF versions only"),
    ],
)
def test_raw_latex_blocks(latex, shown):
    assert shown in str(raw_latex_html(latex))


def test_html_format_refuses_what_does_not_apply(tmp_path, capsys):
    assert main(["build", str(DECK), "--format", "html", "--tex-only", "-o", str(tmp_path)]) != 0
    assert "--tex-only does not apply with --format html" in capsys.readouterr().err
    assert main(["watch", str(DECK), "--format", "html", "-o", str(tmp_path)]) != 0


# the first derivation frame's reveal box, and what a reader sees of it
FIRST_BOX = "document.querySelectorAll('[data-reveal]')[0]"
SEEN = f"""(() => {{
  const box = {FIRST_BOX};
  const rows = Array.from(box.querySelectorAll('tr.dg-row'));
  const red = (element) => getComputedStyle(element).color !== getComputedStyle(box).color;
  return {{
    counter: box.querySelector('.dg-counter').textContent,
    visible: rows.filter((row) => getComputedStyle(row).visibility === 'visible').length,
    rows: rows.length,
    current: rows.filter((row) => row.classList.contains('dg-current')).length,
    red: rows.map((row) => Array.from(row.querySelectorAll('.dg-changed')).map(red)),  // per changed part
  }};
}})()"""


@pytest.mark.slow
def test_steps_are_revealed_by_the_buttons_and_the_keys_with_the_change_in_red(tmp_path):
    """In a real browser: clicks and key presses reveal the lines one by one; the part a line changed is
    coloured on the line just revealed only; printing shows every line."""
    out = build(tmp_path, str(DECK))
    with Browser(tmp_path / "profile") as browser:
        browser.open(out / "dnn_supplementary.html")
        first = browser.evaluate(SEEN)
        total = first["rows"]
        assert total >= 3 and first["visible"] == 1 and first["counter"] == f"line 1 of {total}"

        browser.evaluate(f"{FIRST_BOX}.querySelector('[data-action=next]').click()")
        second = browser.evaluate(SEEN)
        assert second["visible"] == 2 and second["counter"] == f"line 2 of {total}" and second["current"] == 1
        # line 2 is the rewrite of line 1: its changed part red; line 1's, no longer current, not
        assert second["red"][1] and all(second["red"][1]) and not any(second["red"][0])

        browser.evaluate(f"{FIRST_BOX}.querySelector('[data-action=back]').click()")
        assert browser.evaluate(SEEN)["visible"] == 1

        # the keys act on the frame at the top of the window
        browser.evaluate(f"{FIRST_BOX}.closest('section').scrollIntoView()")
        browser.press("ArrowRight", 39)
        browser.press(" ", 32)
        third = browser.evaluate(SEEN)
        assert third["visible"] == 3
        # line 2's changed part, red while it was the line just revealed, is black now; line 3's is red
        assert third["red"][1] and not any(third["red"][1])
        assert third["red"][2] and all(third["red"][2])
        browser.press("ArrowLeft", 37)
        assert browser.evaluate(SEEN)["visible"] == 2
        browser.press("a", 65)
        shown = browser.evaluate(SEEN)
        assert shown["visible"] == total and shown["counter"] == f"line {total} of {total}"

        browser.call("Emulation.setEmulatedMedia", {"media": "print"})
        browser.evaluate(f"{FIRST_BOX}.querySelector('[data-action=back]').click()")
        printed = browser.evaluate(SEEN)
        assert printed["visible"] == total and not any(any(row) for row in printed["red"])
        assert browser.errors() == []
