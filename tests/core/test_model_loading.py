"""The one model loader: a real tiny package loads; anything unusable is one ModelPackageError."""

import pytest

from allscope.core.model_loading import has_model_package, load_classifier, load_model_package
from allscope.core.model_package import ModelPackageError
from allscope.testing import write_tiny_package


def test_a_package_folder_loads_as_a_classifier_with_its_classes(tmp_path):
    package = write_tiny_package(tmp_path / "tiny")
    classifier = load_classifier(package.path, mode="throughput")
    assert classifier.classes == package.classes and has_model_package(package.path)


def test_a_missing_folder_says_it_is_not_a_directory(tmp_path):
    with pytest.raises(ModelPackageError, match="not a directory.*--model DIR"):
        load_classifier(tmp_path / "nowhere")


def test_a_folder_without_model_json_says_so(tmp_path):
    assert not has_model_package(tmp_path)
    with pytest.raises(ModelPackageError, match="model.json is missing"):
        load_model_package(tmp_path)


def test_an_ir_the_runtime_refuses_is_a_package_error_naming_the_folder(tmp_path):
    package = write_tiny_package(tmp_path / "tiny")
    (package.path / "model.xml").write_text("<net>not an IR</net>", encoding="utf-8")
    with pytest.raises(ModelPackageError, match=str(package.path)):
        load_classifier(package.path)
