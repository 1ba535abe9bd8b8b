//! The Airbyte packaging agrees with itself: metadata.yaml (source) and destination/metadata.yaml
//! carry every field Airbyte's registry requires and no key it rejects, reuse Airbyte's definition
//! ids, tag the Cargo package version; the Dockerfile's stages carry ENTRYPOINT ==
//! AIRBYTE_ENTRYPOINT and io.airbyte.* labels equal to the metadata. No Docker needed.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

const SOURCE_DEFINITION_ID: &str = "b117307c-14b6-41aa-9422-947e34922962";
const DESTINATION_DEFINITION_ID: &str = "c0b24000-d34d-b33f-fea7-6b96dc0e5f0d";

/// Keys of `data` in ConnectorMetadataDefinitionV0 (the registry rejects any other).
const KNOWN_DATA_KEYS: &[&str] = &[
    "name",
    "definitionId",
    "connectorType",
    "dockerRepository",
    "dockerImageTag",
    "license",
    "documentationUrl",
    "githubIssueLabel",
    "connectorSubtype",
    "releaseStage",
    "icon",
    "tags",
    "supportLevel",
    "connectorBuildOptions",
    "registryOverrides",
    "allowedHosts",
    "releases",
    "suggestedStreams",
    "resourceRequirements",
    "maxSecondsBetweenMessages",
    "protocolVersion",
    "releaseDate",
    "externalDocumentationUrls",
    "ab_internal",
    "remoteRegistries",
    "supportsRefreshes",
    "supportsFileTransfer",
    "supportsDataActivation",
    "connectorIPCOptions",
    "connectorTestSuitesOptions",
    "supportsDbt",
    "supportsNormalization",
    "erdUrl",
    "generated",
    "language",
    "sourceType",
];

const REQUIRED_DATA_KEYS: &[&str] = &[
    "name",
    "definitionId",
    "connectorType",
    "dockerRepository",
    "dockerImageTag",
    "license",
    "documentationUrl",
    "githubIssueLabel",
    "connectorSubtype",
    "releaseStage",
];

fn repo_file(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

fn metadata(relative: &str) -> Value {
    serde_yaml::from_str(&repo_file(relative))
        .unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"))
}

fn data_str<'a>(metadata: &'a Value, key: &str) -> &'a str {
    metadata["data"][key].as_str().unwrap_or_else(|| {
        panic!(
            "data.{key}: expected a string, got {:?}",
            metadata["data"][key]
        )
    })
}

/// Checks what the registry checks of one metadata file and returns its `data` map.
fn assert_registry_valid(relative: &str, metadata: &Value) {
    assert_eq!(
        metadata["metadataSpecVersion"].as_str(),
        Some("1.0"),
        "{relative}: metadataSpecVersion must be the string \"1.0\""
    );
    let top: Vec<&str> = metadata
        .as_mapping()
        .expect("a mapping at the top")
        .keys()
        .filter_map(|k| k.as_str())
        .collect();
    assert_eq!(
        top,
        ["metadataSpecVersion", "data"],
        "{relative}: top-level keys"
    );
    let data = metadata["data"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{relative}: data must be a mapping"));
    for key in data.keys() {
        let key = key.as_str().expect("string keys");
        assert!(
            KNOWN_DATA_KEYS.contains(&key),
            "{relative}: data.{key} is not a ConnectorMetadataDefinitionV0 key (the registry rejects it)"
        );
    }
    for key in REQUIRED_DATA_KEYS {
        let value = data_str(metadata, key);
        assert!(!value.trim().is_empty(), "{relative}: data.{key} is empty");
    }
    assert!(
        [
            "api",
            "database",
            "datalake",
            "file",
            "custom",
            "message_queue",
            "unknown",
            "vectorstore"
        ]
        .contains(&data_str(metadata, "connectorSubtype")),
        "{relative}: connectorSubtype"
    );
    assert!(
        ["alpha", "beta", "generally_available", "custom"]
            .contains(&data_str(metadata, "releaseStage")),
        "{relative}: releaseStage"
    );
    assert!(
        ["community", "certified", "archived"].contains(&data_str(metadata, "supportLevel")),
        "{relative}: supportLevel"
    );
    assert!(
        data_str(metadata, "documentationUrl").starts_with("https://"),
        "{relative}: documentationUrl must be an https URL"
    );
    let tags: Vec<&str> = metadata["data"]["tags"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{relative}: data.tags must be a list"))
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    assert!(tags.contains(&"language:rust"), "{relative}: tags {tags:?}");
    let hosts = metadata["data"]["allowedHosts"]["hosts"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{relative}: data.allowedHosts.hosts must be a list"));
    assert!(
        hosts.iter().any(|h| h.as_str() == Some("*.salesforce.com")),
        "{relative}: allowedHosts must let the connector reach *.salesforce.com"
    );
}

#[test]
fn source_metadata_has_every_registry_field_and_airbytes_definition_id() {
    let m = metadata("metadata.yaml");
    assert_registry_valid("metadata.yaml", &m);
    assert_eq!(data_str(&m, "connectorType"), "source");
    assert_eq!(data_str(&m, "connectorSubtype"), "api");
    assert_eq!(data_str(&m, "definitionId"), SOURCE_DEFINITION_ID);
    assert_eq!(data_str(&m, "githubIssueLabel"), "source-salesforce");
    assert_eq!(m["data"]["maxSecondsBetweenMessages"].as_u64(), Some(86400));
    let suggested: Vec<&str> = m["data"]["suggestedStreams"]["streams"]
        .as_sequence()
        .expect("suggestedStreams.streams is a list")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    for stream in ["Account", "Contact", "Lead", "Opportunity", "User"] {
        assert!(
            suggested.contains(&stream),
            "suggestedStreams lacks {stream}"
        );
    }
}

#[test]
fn destination_metadata_is_a_data_activation_destination_with_airbytes_definition_id() {
    let m = metadata("destination/metadata.yaml");
    assert_registry_valid("destination/metadata.yaml", &m);
    assert_eq!(data_str(&m, "connectorType"), "destination");
    assert_eq!(data_str(&m, "connectorSubtype"), "api");
    assert_eq!(data_str(&m, "definitionId"), DESTINATION_DEFINITION_ID);
    assert_eq!(data_str(&m, "githubIssueLabel"), "destination-salesforce");
    assert_eq!(m["data"]["supportsDataActivation"].as_bool(), Some(true));
    assert_eq!(m["data"]["supportsRefreshes"].as_bool(), Some(true));
}

#[test]
fn both_metadata_files_tag_the_cargo_package_version() {
    for file in ["metadata.yaml", "destination/metadata.yaml"] {
        let m = metadata(file);
        assert_eq!(
            data_str(&m, "dockerImageTag"),
            env!("CARGO_PKG_VERSION"),
            "{file}: dockerImageTag must be the Cargo package version"
        );
    }
}

/// One Dockerfile stage: its name and its instructions (continuation lines joined).
#[derive(Debug, Default)]
struct Stage {
    name: String,
    instructions: Vec<(String, String)>,
}

fn dockerfile_stages(text: &str) -> Vec<Stage> {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(body) = trimmed.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            logical.push(std::mem::take(&mut current));
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for line in logical {
        let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let keyword = keyword.to_ascii_uppercase();
        let rest = rest.trim().to_string();
        if keyword == "FROM" {
            let name = rest
                .split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .find(|w| w[0].eq_ignore_ascii_case("AS"))
                .map(|w| w[1].to_string())
                .unwrap_or_default();
            stages.push(Stage {
                name,
                instructions: vec![(keyword, rest)],
            });
        } else {
            stages
                .last_mut()
                .expect("an instruction after FROM")
                .instructions
                .push((keyword, rest));
        }
    }
    stages
}

impl Stage {
    fn last(&self, keyword: &str) -> Option<&str> {
        self.instructions
            .iter()
            .rev()
            .find(|(k, _)| k == keyword)
            .map(|(_, v)| v.as_str())
    }

    /// `KEY="value"` pairs of every instruction `keyword` (LABEL, ENV).
    fn pairs(&self, keyword: &str) -> BTreeMap<String, String> {
        let mut pairs = BTreeMap::new();
        for (k, rest) in &self.instructions {
            if k != keyword {
                continue;
            }
            let mut chars = rest.chars().peekable();
            loop {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
                let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                if key.is_empty() {
                    break;
                }
                let value: String = if chars.peek() == Some(&'"') {
                    chars.next();
                    chars.by_ref().take_while(|c| *c != '"').collect()
                } else {
                    chars.by_ref().take_while(|c| !c.is_whitespace()).collect()
                };
                pairs.insert(key.trim().to_string(), value);
            }
        }
        pairs
    }
}

#[test]
fn each_role_stage_has_entrypoint_equal_to_airbyte_entrypoint_and_labels_equal_to_metadata() {
    let stages = dockerfile_stages(&repo_file("Dockerfile"));
    for (stage_name, metadata_file, link) in [
        (
            "source",
            "metadata.yaml",
            "/usr/local/bin/source-salesforce",
        ),
        (
            "destination",
            "destination/metadata.yaml",
            "/usr/local/bin/destination-salesforce",
        ),
    ] {
        let stage = stages
            .iter()
            .find(|s| s.name == stage_name)
            .unwrap_or_else(|| panic!("Dockerfile has no stage named {stage_name}"));
        let entrypoint: Vec<String> = serde_json::from_str(
            stage
                .last("ENTRYPOINT")
                .unwrap_or_else(|| panic!("stage {stage_name}: no ENTRYPOINT")),
        )
        .unwrap_or_else(|e| panic!("stage {stage_name}: ENTRYPOINT must be exec form: {e}"));
        assert_eq!(entrypoint, [link], "stage {stage_name}: ENTRYPOINT");
        let env = stage.pairs("ENV");
        assert_eq!(
            env.get("AIRBYTE_ENTRYPOINT").map(String::as_str),
            Some(entrypoint.join(" ").as_str()),
            "stage {stage_name}: AIRBYTE_ENTRYPOINT must equal the ENTRYPOINT"
        );
        let labels = stage.pairs("LABEL");
        let m = metadata(metadata_file);
        assert_eq!(
            labels.get("io.airbyte.name").map(String::as_str),
            Some(data_str(&m, "dockerRepository")),
            "stage {stage_name}: io.airbyte.name vs {metadata_file}"
        );
        assert_eq!(
            labels.get("io.airbyte.version").map(String::as_str),
            Some(data_str(&m, "dockerImageTag")),
            "stage {stage_name}: io.airbyte.version vs {metadata_file}"
        );
    }
    // The default target (`docker build .` without --target) is the source.
    assert_eq!(stages.last().map(|s| s.name.as_str()), Some("source"));
}

#[test]
fn runtime_stage_runs_as_uid_1000_with_both_role_links() {
    let stages = dockerfile_stages(&repo_file("Dockerfile"));
    let runtime = stages
        .iter()
        .find(|s| s.name == "runtime")
        .expect("a runtime stage");
    assert_eq!(runtime.last("USER"), Some("1000:1000"));
    let from = runtime.last("FROM").expect("FROM");
    assert!(
        from.starts_with("debian:bookworm-slim"),
        "base image: {from}"
    );
    let runs: Vec<&str> = runtime
        .instructions
        .iter()
        .filter(|(k, _)| k == "RUN")
        .map(|(_, v)| v.as_str())
        .collect();
    for link in ["source-salesforce", "destination-salesforce"] {
        assert!(
            runs.iter()
                .any(|r| r.contains(&format!("ln -s salesforce-connector /usr/local/bin/{link}"))),
            "no link {link} in {runs:?}"
        );
    }
    assert!(runtime
        .instructions
        .iter()
        .any(|(k, v)| k == "COPY" && v.starts_with("target/release/salesforce-connector ")));
}

#[test]
fn emulator_image_is_labelled_with_the_emulator_package_version() {
    let stages = dockerfile_stages(&repo_file("emulator/Dockerfile"));
    let stage = stages.last().expect("a stage");
    let cargo = repo_file("emulator/Cargo.toml");
    let version = cargo
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .map(|v| v.trim().trim_matches('"'))
        .expect("emulator/Cargo.toml has a version");
    assert_eq!(
        stage
            .pairs("LABEL")
            .get("org.opencontainers.image.version")
            .map(String::as_str),
        Some(version)
    );
    assert_eq!(
        stage.last("ENTRYPOINT"),
        Some(r#"["/usr/local/bin/sf-emulator"]"#)
    );
    assert_eq!(stage.last("USER"), Some("1000:1000"));
}

#[test]
fn dockerfile_parser_joins_continuations_and_reads_quoted_labels() {
    let stages = dockerfile_stages(
        "# comment\nFROM x AS a\nRUN one \\\n    two\nLABEL k=\"v w\" \\\n  z=1\nFROM a AS b\nUSER 1\n",
    );
    assert_eq!(stages.len(), 2);
    assert_eq!(stages[0].last("RUN"), Some("one  two"));
    let labels = stages[0].pairs("LABEL");
    assert_eq!(labels.get("k").map(String::as_str), Some("v w"));
    assert_eq!(labels.get("z").map(String::as_str), Some("1"));
    assert_eq!(stages[1].name, "b");
    assert_eq!(stages[1].last("USER"), Some("1"));
}
