"""Screenshots for the closing note: desktop, 390 px and dark, into bench/out/screens/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCREENS = Path(__file__).resolve().parents[2] / "bench" / "out" / "screens"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}


async def shoot(page: Any, name: str, *, full_page: bool = True) -> None:
    """`name`-desktop.png, `name`-390.png and `name`-dark.png of the page as it is now."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(SCREENS / f"{name}-desktop.png"), full_page=full_page)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=str(SCREENS / f"{name}-390.png"), full_page=full_page)
    await page.set_viewport_size(DESKTOP)
    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=str(SCREENS / f"{name}-dark.png"), full_page=full_page)
    await page.emulate_media(color_scheme="light")
