"""The node diagram: servers with card slots, cards coloured by stage, per-card memory bars.

Items are views of plan entities keyed by the plan's stable ids; the scene
emits intent signals and :class:`gui.diagram.controller.DiagramController`
turns them into document commands.
"""
