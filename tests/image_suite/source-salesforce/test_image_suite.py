"""Airbyte's standard image tests, unmodified, against the source image, and stricter checks.

`TestSourceSalesforceImage` is the CDK's own suite as shipped: pytest collects it from this
folder, whose `metadata.yaml` and `acceptance-test-config.yml` the suite reads (it finds them
from this file's folder). Run by tests/it/docker_image.rs:

    pytest -p airbyte_cdk.test.standard_tests.pytest_hooks -m image_tests \
        --connector-image salesforce-connector/source-salesforce:dev --read-from-streams=all

The suite's image tests only check that `discover` returns a catalog and that `read` raises
nothing. The tests below the class apply the checks the CDK runs on in-process connectors to
the image's own output: the catalog passes every one of the CDK's catalog checks (also those
it does not enforce yet), every RECORD validates against its stream's discovered `json_schema`
(the CDK's record validator), and every stream of the read ends COMPLETE.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson
import pytest

from airbyte_cdk.models import (
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
)
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.standard_tests._catalog_checks import (
    CATALOG_CHECKS,
    find_catalog_problems,
    format_catalog_problems,
)
from airbyte_cdk.test.standard_tests._read_assertions import assert_read_records
from airbyte_cdk.test.standard_tests.docker_base import DockerConnectorTestSuite
from airbyte_cdk.utils.docker import run_docker_airbyte_command

CONNECTOR_ROOT = Path(__file__).parent
CONFIG = CONNECTOR_ROOT / "secrets" / "config.json"


class TestSourceSalesforceImage(DockerConnectorTestSuite):
    """Every image test of the CDK's suite, as shipped."""


class ImageRun:
    """The image's `discover` and a full-refresh `read` of every discovered stream."""

    def __init__(self, image: str, workdir: Path) -> None:
        config_mount = f"{CONFIG}:/secrets/config.json:ro"
        self.discover = run_docker_airbyte_command(
            ["docker", "run", "--rm", "-v", config_mount, image,
             "discover", "--config", "/secrets/config.json"],
            raise_if_errors=True,
        )
        catalog = self.discover.catalog.catalog
        assert catalog is not None, "discover emitted no catalog"
        self.catalog = catalog
        self.configured = ConfiguredAirbyteCatalog(
            streams=[
                ConfiguredAirbyteStream(
                    stream=stream,
                    sync_mode=SyncMode.full_refresh,
                    destination_sync_mode=DestinationSyncMode.append,
                )
                for stream in catalog.streams
            ]
        )
        catalog_path = workdir / "catalog.json"
        catalog_path.write_bytes(orjson.dumps(asdict(self.configured)))
        catalog_path.chmod(0o644)
        self.read: EntrypointOutput = run_docker_airbyte_command(
            ["docker", "run", "--rm", "-v", config_mount,
             "-v", f"{catalog_path}:/secrets/catalog.json:ro", image,
             "read", "--config", "/secrets/config.json", "--catalog", "/secrets/catalog.json"],
            raise_if_errors=True,
        )


@pytest.fixture(scope="module")
def image_run(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> ImageRun:
    image = pytestconfig.getoption("--connector-image")
    if not image:
        pytest.fail("--connector-image is required: these checks run the image as shipped")
    workdir = tmp_path_factory.mktemp("strict")
    workdir.chmod(0o755)
    return ImageRun(image, workdir)


@pytest.mark.image_tests
def test_image_catalog_passes_every_cdk_catalog_check(image_run: ImageRun) -> None:
    problems = find_catalog_problems(image_run.catalog, CATALOG_CHECKS)
    assert not problems, (
        "The image's discovered catalog fails the CDK's catalog checks:\n"
        + format_catalog_problems(problems)
    )


@pytest.mark.image_tests
def test_image_records_match_their_discovered_schemas(image_run: ImageRun) -> None:
    records = image_run.read.records
    assert records, "the read returned no records"
    assert_read_records(
        records=records,
        configured_catalog=image_run.configured,
        require_records_per_stream=False,
        validate_schema=True,
    )
    read_streams = {message.record.stream for message in records if message.record}
    assert len(read_streams) > 1, f"records from more than one stream: {sorted(read_streams)}"
    print(
        f"{len(records)} records of {len(read_streams)} streams valid against the schemas of "
        f"{len(image_run.configured.streams)} discovered streams"
    )


@pytest.mark.image_tests
def test_image_read_ends_every_stream_complete(image_run: ImageRun) -> None:
    not_complete = {}
    for configured in image_run.configured.streams:
        name = configured.stream.name
        statuses = image_run.read.get_stream_statuses(name)
        if not statuses or statuses[-1] != AirbyteStreamStatus.COMPLETE:
            not_complete[name] = [status.name for status in statuses]
    print(f"{len(image_run.configured.streams)} streams ended COMPLETE")
    assert not not_complete, (
        "Every stream of the read must end COMPLETE; these did not "
        f"(their statuses in order): {not_complete}"
    )
    assert image_run.read.errors == [], image_run.read.get_formatted_error_message()
