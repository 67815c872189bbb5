"""Reading a PDF's pages back: where every word stands and how tall it is (``pdftotext -bbox``)."""

from __future__ import annotations

import re
import statistics
import subprocess
from pathlib import Path


def page_words(pdf: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """(width, height, words with their boxes) of every page, from ``pdftotext -bbox``."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    result: list = []
    for line in out.splitlines():
        page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line)
        if page:
            result.append((float(page.group(1)), float(page.group(2)), []))
        word = re.search(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">(.*)</word>', line)
        if word:
            result[-1][2].append((*(float(value) for value in word.groups()[:4]), word.group(5)))
    return result


def smallest_text(pdf: Path) -> float:
    """The smallest size text is set at on any page, as a share of the deck's normal size: the upper
    quartile of the word heights below the title, against the median height of the words of text
    (a frame shrunk as a whole shrinks its quartile; subscripts alone do not)."""
    every = page_words(pdf)
    normal = statistics.median(
        top - bottom for _, _, words in every for _, bottom, _, top, text in words if len(text) >= 3 and text.isalpha()
    )
    shares = []
    for _, height, words in every:
        body = sorted(top - bottom for _, bottom, _, top, _ in words if 0.15 * height < bottom < 0.9 * height)
        if len(body) >= 5:
            shares.append(body[int(0.75 * (len(body) - 1))] / normal)
    return min(shares)


def outside_the_page(pdf: Path) -> list[str]:
    return [
        text
        for width, height, words in page_words(pdf)
        for left, bottom, right, top, text in words
        if left < -0.5 or bottom < -0.5 or right > width + 0.5 or top > height + 0.5
    ]
