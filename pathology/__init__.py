"""Whole-slide images to tiles, tile features, slide pooling and a pathology signature."""

__all__: list[str] = []
