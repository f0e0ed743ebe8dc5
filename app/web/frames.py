"""Light frames: what an action or a Play frame changed, as JSON that the page applies in place
(static/js/frames.js), instead of every panel's HTML rebuilt.

The panels a frame sends are the panel table's, as for an HTML answer (app/web/panel_table.py). Three are sent as
data: the diagram as a patch of the values that changed (app/views/diagram_patch.py), the loss curve's new points and
the output plot's update, which the page hands to Plotly (extendTraces, relayout) as it does today. The others go as
out-of-band HTML, and only when their HTML differs from what the page was last sent (`PageCopy`): a Play stream keeps
one copy for its page, so that a toolbar or a question that did not change is not sent sixty times a second; a single
answer starts from what the page says it holds (the diagram's structure) and sends the rest.

A frame: {"step": N, "playing": bool, "html": out-of-band panels or "", and where sent "diagram": patch,
"loss": {"mode", "points", ...}, "output": the output plot's update}.
"""
from dataclasses import dataclass, field

from app.views.diagram_patch import Drawn, patch, reset

from .panel_data import PanelData
from .panel_table import Layout, chosen
from .render import templates

FRAME_HEADER = "x-bp-frame"  # an htmx request with it gets a light frame; its value: the diagram structure it holds
FRAME_TYPE = "application/vnd.backprop.frame+json"


@dataclass
class PageCopy:
    """What a page holds: the diagram it draws, and the HTML of each panel it was last sent."""

    drawn: Drawn = field(default_factory=Drawn)
    html: dict = field(default_factory=dict)

    @classmethod
    def holding(cls, structure: str) -> "PageCopy":
        """A page that says which diagram structure it draws (its <svg data-structure>), and nothing else: every
        value and every panel the frame chooses is sent."""
        return cls(Drawn(structure=structure[:32] or None))


def light_frame(data: PanelData, layout: Layout, copy: PageCopy, output: bool = True) -> dict:
    """The frame that brings a page holding `copy` to `data` (its outcome chooses the panels); `copy` is brought up
    to date with it. Without `output`, a step's update of the output plot is left out (not drawn either): the page
    keeps the picture it has, as it does between its redraws (a Play stream sends one at most every OUTPUT_SECONDS,
    app/web/play_stream.py); a whole figure is always sent. The caller holds the session's lock."""
    panels = [panel for line in chosen(layout, data) for panel in line]
    frame: dict = {"step": data.session.trainer.step_count, "playing": bool(data.view.playing)}
    html_panels = []
    for panel in panels:
        if panel.id == "network":
            changes = patch(data.diagram, copy.drawn)
            if changes is not None:
                frame["diagram"] = changes
                continue
        elif panel.id == "network-panel":
            reset(data.diagram, copy.drawn)  # the page gets the diagram's markup whole
        elif panel.id == "loss-data":
            frame["loss"] = data.loss_curve
            continue
        elif panel.id == "output-panel" and not data.output_whole:
            if output:
                frame["output"] = data.output
            continue
        html_panels.append(panel)
    names = dict.fromkeys(name for panel in html_panels for name in panel.needs)
    entries = data.entries(list(names))
    parts = []
    for panel in html_panels:
        html = templates.env.get_template(panel.template).render({**entries, "oob": True,
                                                                  "parts_oob": panel.parts_oob})
        if copy.html.get(panel.id) != html:
            copy.html[panel.id] = html
            parts.append(html)
    frame["html"] = "".join(parts)
    return frame
