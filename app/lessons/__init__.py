"""Lessons from the seed articles: short cards over the live playground, each with a task the playground checks."""
from .content import LESSONS, card_of
from .model import Card, Choose, Do, Lesson, Number

__all__ = ["LESSONS", "Card", "Choose", "Do", "Lesson", "Number", "card_of"]
