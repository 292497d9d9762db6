"""Image data for trained proxies: CIFAR loading, a shipped sample, on-device augmentation."""

from __future__ import annotations

from harness.data.cifar import ImageData, load_images, locate_cifar10, sample_path

__all__ = ["ImageData", "load_images", "locate_cifar10", "sample_path"]
