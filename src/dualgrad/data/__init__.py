"""Datasets as uint8 tensors, plus the on-device augmentation that feeds training."""

from .augment import CropFlip, Normalizer, augment_batch
from .datasets import ImageData, dataset_location, load_dataset, prepare_dataset

__all__ = ["CropFlip", "ImageData", "Normalizer", "augment_batch", "dataset_location", "load_dataset", "prepare_dataset"]
