"""Backprop Playground: watch a small neural network learn, one step at a time."""
