"""Weights as stored: the tensor inventory of a model and quantized storage formats (serving and fine-tuning)."""
