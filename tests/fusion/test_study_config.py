"""The study file: examples validate; every kind of mistake is named with its line, key and fix."""

import re

import pytest

from fusion.study import EXAMPLES, StudyFileError, example_path, load_study, parse_study, schema_reference

MINIMAL = """\
name: A study
clinical:
  table: clinical.csv
  patient_id: pid
outcome:
  type: binary
  column: y
splits:
  seed: 1
clinical_factors:
  candidates: [age, sex]
  categorical: [sex]
models:
  clinical: {}
"""


def problems_of(text, **kw):
    with pytest.raises(StudyFileError) as info:
        parse_study(text, source="study.yaml", check_files=False, **kw)
    return info.value.problems


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_example_validates_and_is_documented(name):
    path = example_path(name)
    cfg = load_study(path, check_files=False)
    text = path.read_text(encoding="utf-8")
    # Documented: a header comment naming the seed design and comments on the lines.
    assert text.startswith("#") and "(the design of seed 00" in text.splitlines()[0]
    assert sum(1 for line in text.splitlines() if "#" in line) >= 15
    assert cfg.models and cfg.reference_model in cfg.models
    for model in cfg.models.values():
        assert all(label in cfg.labels for label in model.labels)


def test_examples_cover_the_three_seed_designs():
    bone = load_study(example_path("bone_metastasis"), check_files=False)
    assert bone.outcome.type == "binary" and bone.cancer_type.column == "cancer_type"
    assert bone.pathology is not None and bone.imaging is not None
    assert any(lab.method == "early_fusion" for lab in bone.labels.values())

    soil = load_study(example_path("seed_soil_survival"), check_files=False)
    assert soil.survival and soil.outcome.time_unit == "months" and list(soil.outcome.horizons) == [12, 24, 36]
    assert "soil" in soil.imaging.regions and soil.cancer_type is None
    assert soil.validation.risk_groups.cutoff == "maxstat"

    node = load_study(example_path("occult_lymph_node"), check_files=False)
    assert "habitats" in node.imaging.regions and node.splits.external.column == "centre"
    assert list(node.splits.external["values"]) == ["Hospital 2", "Hospital 3"]


def test_defaults_are_filled_and_paths_resolved(tmp_path):
    (tmp_path / "clinical.csv").write_text("pid,age,sex,y\n1,50,m,0\n", encoding="utf-8")
    study = tmp_path / "study.yaml"
    study.write_text(MINIMAL, encoding="utf-8")
    cfg = load_study(study)
    assert cfg.clinical.table == str((tmp_path / "clinical.csv").resolve())
    assert cfg.validation.n_boot == 200 and cfg.validation.conf_level == 0.95
    assert cfg.splits.internal_test == 0.3 and cfg.splits.external is None
    assert cfg.cancer_type is None and cfg.imaging is None and cfg.pathology is None
    assert cfg.clinical_factors.selection.method == "univariable_then_backward"
    assert cfg.thresholds[0] == 0.01 and cfg.thresholds[-1] == 0.6 and len(cfg.thresholds) == 60
    assert cfg.reference_model == "clinical"
    assert cfg.digest("outcome") == load_study(study).digest("outcome")


def test_missing_file_is_named_relative_to_the_study_folder(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text(MINIMAL, encoding="utf-8")
    with pytest.raises(StudyFileError, match=r"line 3: 'clinical.table' names the file .*clinical.csv"):
        load_study(study)


def test_unknown_key_says_did_you_mean_with_line():
    p = problems_of(MINIMAL.replace("splits:", "split:"))[0]
    assert "line 8" in p and "unknown key 'split' at the top level" in p and "Did you mean 'splits'?" in p
    problems = problems_of(MINIMAL.replace("  column: y", "  column: y\n  colour: red"))
    assert any("unknown key 'colour' in 'outcome'" in p and "Allowed keys: type, name, column" in p
               for p in problems)


def test_wrong_choice_type_and_range_name_path_value_and_allowed():
    text = (MINIMAL.replace("type: binary", "type: binar")
            .replace("seed: 1", "seed: one\n  internal_test: 1.5"))
    problems = problems_of(text)
    joined = "\n".join(problems)
    assert "line 6: 'outcome.type' must be one of {'binary', 'survival'}. Got 'binar' instead. " \
           "Did you mean 'binary'?" in joined
    assert "'splits.seed' must be an integer. Got 'one' (text) instead." in joined
    assert "'splits.internal_test' must be >= 0 and < 1. Got 1.5 instead." in joined
    # Problems come in file order.
    lines = [int(re.search(r"line (\d+)", p).group(1)) for p in problems]
    assert lines == sorted(lines)


def test_survival_and_binary_keys_are_not_mixed():
    text = MINIMAL.replace("type: binary\n  column: y", "type: survival\n  column: y\n  time: t")
    joined = "\n".join(problems_of(text))
    assert "'outcome.event' is required for a survival outcome" in joined
    assert "'outcome.horizons' is required for a survival outcome" in joined
    assert "'outcome.column' is for a binary outcome" in joined
    text = MINIMAL.replace("column: y", "column: y\n  horizons: [12]")
    assert any("'outcome.horizons' is for a survival outcome" in p for p in problems_of(text))
    text = MINIMAL.replace("type: binary\n  column: y",
                           "type: survival\n  time: t\n  event: e\n  time_unit: months\n  horizons: [12, -1]")
    assert any("'outcome.horizons[1]' must be > 0. Got -1 instead." in p for p in problems_of(text))


def test_references_between_sections_are_checked():
    text = MINIMAL.replace("models:\n  clinical: {}",
                           "labels:\n  rad: {source: imaging}\n"
                           "models:\n  clinical: {}\n  fused: {labels: [rads]}\n"
                           "validation:\n  reference: clinic")
    text = text.replace("categorical: [sex]", "categorical: [sex, stage]")
    joined = "\n".join(problems_of(text))
    assert "label 'rad' uses imaging features but the study has no 'imaging' section" in joined
    assert "model 'fused' uses label 'rads', which is not defined under 'labels'" in joined
    assert "Did you mean 'rad'?" in joined
    assert "'validation.reference' is 'clinic', which is not a model" in joined
    assert "'clinical_factors.categorical[1]' is 'stage', which is not among" in joined


def test_early_fusion_needs_both_modalities_and_regions_must_exist():
    text = MINIMAL.replace("models:\n  clinical: {}", """\
imaging:
  manifest: scans.csv
  regions: [lesion, ring5]
labels:
  ef: {source: imaging, method: early_fusion}
  rad: {source: imaging, regions: [lesion, ring3]}
models:
  clinical: {}
""")
    joined = "\n".join(problems_of(text))
    assert "label 'ef' is an early-fusion network" in joined and "source: [imaging, pathology]" in joined
    assert "'labels.rad.regions[1]' is 'ring3', which is not among imaging.regions ['lesion', 'ring5']" in joined


def test_bad_region_name_and_empty_models():
    text = MINIMAL.replace("models:\n  clinical: {}", "imaging:\n  manifest: s.csv\n  regions: [lesion, rim5]\nmodels: {}")
    joined = "\n".join(problems_of(text))
    assert "['rim5'] is none of these (Did you mean 'ring5'?)" in joined
    assert "'models' must name at least 1 entry" in joined


def test_not_yaml_and_not_a_mapping():
    with pytest.raises(StudyFileError, match=r"line 2: not valid YAML"):
        parse_study("name: x\n  bad: [\n", source="study.yaml")
    with pytest.raises(StudyFileError, match="a study file is a YAML mapping"):
        parse_study("- a\n- b\n", source="study.yaml")


def test_schema_reference_lists_every_section():
    ref = schema_reference()
    for key in ("clinical.table", "outcome.horizons", "imaging.regions", "pathology.weights",
                "splits.external.column", "clinical_factors.selection.method", "labels.<name>.method",
                "models.<name>.labels", "validation.decision_curve.by", "validation.risk_groups.cutoff"):
        assert f"`{key}`" in ref, key


def test_display_names_must_name_a_factor_or_a_label():
    ok = MINIMAL.replace("  categorical: [sex]", "  categorical: [sex]\n  display_names: {age: 'Age, years'}")
    assert parse_study(ok, source="study.yaml", check_files=False).clinical_factors.display_names == \
        {"age": "Age, years"}
    unknown = MINIMAL.replace("  categorical: [sex]", "  categorical: [sex]\n  display_names: {ages: 'Age'}")
    joined = "\n".join(problems_of(unknown))
    assert "'clinical_factors.display_names' names 'ages', which is neither a candidate factor nor a label" in joined
    assert "Did you mean 'age'?" in joined
    empty = MINIMAL.replace("  categorical: [sex]", "  categorical: [sex]\n  display_names: {sex: ''}")
    assert "non-empty text" in "\n".join(problems_of(empty))
