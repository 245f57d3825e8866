"""Datasets as uint8 tensors, plus the on-device augmentation that feeds training."""

from .augment import CropFlip, Normalizer
from .datasets import ImageData, dataset_location, load_dataset, prepare_dataset

__all__ = ["CropFlip", "ImageData", "Normalizer", "dataset_location", "load_dataset", "prepare_dataset"]
