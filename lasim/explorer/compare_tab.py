"""Comparison mode of the explorer (placeholder)."""

import solara


@solara.component
def CompareTab() -> None:
    solara.Markdown("coming")
