"""Airbyte's standard image tests, unmodified, against the destination image.

Collected by pytest from this folder, whose name (`destination-...`) tells the suite the
connector is a destination, and whose `metadata.yaml` and `acceptance-test-config.yml` the
suite reads (it finds them from this file's folder). Run by tests/it/docker_image.rs:

    pytest -p airbyte_cdk.test.standard_tests.pytest_hooks -m image_tests \
        --connector-image salesforce-connector/destination-salesforce:dev --read-from-streams=all
"""

from airbyte_cdk.test.standard_tests.docker_base import DockerConnectorTestSuite


class TestDestinationSalesforceImage(DockerConnectorTestSuite):
    """Every image test of the CDK's suite, as shipped."""
