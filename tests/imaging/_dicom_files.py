"""Writing small DICOM test files (shared by the PET and RTSTRUCT tests)."""

import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def write_dicom(ds, path, sop_class_uid):
    """Give ``ds`` file meta of ``sop_class_uid`` with a new instance UID and write it to ``path``."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class_uid
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    pydicom.dcmwrite(str(path), ds, enforce_file_format=True)
    return path
