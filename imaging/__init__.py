"""CT/MR/PET volumes and masks to regions, radiomics and an imaging signature."""

__all__: list[str] = []
