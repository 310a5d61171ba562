"""Prediction from a trained model directory."""
