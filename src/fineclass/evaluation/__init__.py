"""Metrics for a trained model on labeled data."""
