"""fineclass: fine-tune BERT-family encoders into fast, dependable text classifiers."""

__version__ = "0.1.0"

__all__ = ["Predictor", "__version__"]


def __getattr__(name):
    # Importing torch and transformers takes seconds: load them only when the API is used.
    if name == "Predictor":
        from fineclass.inference.predictor import Predictor

        return Predictor
    raise AttributeError(name)
