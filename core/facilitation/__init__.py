"""Facilitation: the step tracker decides what happens next; a Facilitator words it."""

from core.facilitation.offline import OfflineFacilitator
from core.facilitation.protocol import Action, Facilitator, TurnContext, TurnPlan

__all__ = ["Action", "Facilitator", "TurnContext", "TurnPlan", "OfflineFacilitator"]
