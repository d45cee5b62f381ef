"""A digit's confidence inside a number, given what the line reader says about the same digit.

The classifier's probability is calibrated on single digits. Inside a number `read` has a second
opinion: when the line reader reads as many digits, it gives its own probability of each digit's
label. Two readers agreeing is evidence the probability alone does not hold (a digit the
classifier gives 0.3 and the line reader confirms is right about 4 times in 5); disagreeing, the
reverse. The calibration is a logistic regression on both log-odds, fitted on numbers composed from
fresh pen-stroke digits (`scripts/calibrate_reader.py`) and stored in the line reader's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def log_odds(probability: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), finite for p in [0, 1]."""
    p = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class AgreementCalibration:
    """logit(confidence) = intercept + classifier * logit(classifier's p) + line * logit(line reader's p),
    both probabilities of the same label."""

    intercept: float
    classifier: float
    line: float

    def confidence(self, classifier_probability: np.ndarray, line_probability: np.ndarray) -> np.ndarray:
        """Calibrated confidences of digits both readers gave these probabilities."""
        logit = (self.intercept + self.classifier * log_odds(classifier_probability)
                 + self.line * log_odds(line_probability))
        return 1.0 / (1.0 + np.exp(-logit))

    def to_dict(self) -> dict:
        return {"intercept": round(self.intercept, 4), "classifier": round(self.classifier, 4),
                "line": round(self.line, 4)}

    @classmethod
    def from_dict(cls, data: dict) -> AgreementCalibration:
        return cls(float(data["intercept"]), float(data["classifier"]), float(data["line"]))
