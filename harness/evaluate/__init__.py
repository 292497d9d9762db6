"""`harness evaluate`: train a returned cell from scratch under a published protocol.

protocols/ (registered training setups: darts, nb201), augment (batched on-device CIFAR
augmentation), data (full CIFAR or the smoke sample), device (precision, placement, what ran
where), checkpoint (atomic, resumable), trainer (the loop), jobs (targets -> store rows),
bench (images/s and checkpoint overhead).
"""

from __future__ import annotations

from harness.evaluate.protocols import PROTOCOLS, TrainingProtocol, default_protocol

__all__ = ["PROTOCOLS", "TrainingProtocol", "default_protocol"]
