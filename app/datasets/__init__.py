"""Data sets for the playground: TF Playground's generators, small tutorial tables, iris and CSV uploads."""

from .dataset import Dataset
from .features import FEATURES
from .inline import inline_dataset
from .pipeline import Limits, build_dataset
from .registry import DATASETS, DatasetInfo

__all__ = ["DATASETS", "FEATURES", "Dataset", "DatasetInfo", "Limits", "build_dataset", "inline_dataset"]
