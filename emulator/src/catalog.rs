//! The org's objects: describe metadata after Salesforce's object reference, each field paired
//! with the generator rule of its values, and each object's base record count (records at
//! `--scale 1`; the org multiplies by the scale).

use crate::schema::{Field, FieldType, PicklistValue, SObject};
use crate::seed::Gen;

/// A calculated field and how it is computed from other fields of the same record.
#[derive(Clone, Debug)]
pub enum Formula {
    /// `numerator / denominator`, null when either is null or the denominator is 0.
    Ratio {
        numerator: &'static str,
        denominator: &'static str,
    },
    /// Bytes in a base64 field (`Attachment.BodyLength`); not a formula in describe.
    ByteLength { field: &'static str },
}

/// One object of the org before it holds records.
#[derive(Clone, Debug)]
pub struct ObjectDef {
    pub sobject: SObject,
    /// Generator rule per field, aligned with `sobject.fields`.
    pub gens: Vec<Gen>,
    /// Records at scale 1.
    pub base_count: u64,
    /// True when the count does not grow with the scale (lookup tables like CaseStatus).
    pub fixed_count: bool,
    /// (field index, formula) of calculated fields.
    pub formulas: Vec<(usize, Formula)>,
}

struct Builder {
    def: ObjectDef,
}

fn picklist(values: &[&str]) -> Vec<PicklistValue> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| PicklistValue {
            value: v.to_string(),
            label: v.to_string(),
            active: true,
            default_value: i == usize::MAX,
        })
        .collect()
}

impl Builder {
    fn new(
        name: &str,
        label: &str,
        plural: &str,
        prefix: Option<&str>,
        base_count: u64,
    ) -> Builder {
        let custom = name.ends_with("__c");
        Builder {
            def: ObjectDef {
                sobject: SObject {
                    name: name.to_string(),
                    label: label.to_string(),
                    label_plural: plural.to_string(),
                    key_prefix: prefix.map(str::to_string),
                    custom,
                    queryable: true,
                    retrieveable: true,
                    replicateable: true,
                    createable: true,
                    updateable: true,
                    deletable: true,
                    undeletable: true,
                    searchable: true,
                    triggerable: true,
                    bulk_queryable: true,
                    fields: Vec::new(),
                },
                gens: Vec::new(),
                base_count,
                fixed_count: false,
                formulas: Vec::new(),
            },
        }
    }

    fn add(mut self, field: Field, gen: Gen) -> Builder {
        self.def.sobject.fields.push(field);
        self.def.gens.push(gen);
        self
    }

    fn with(
        self,
        name: &str,
        label: &str,
        ty: FieldType,
        gen: Gen,
        adjust: impl FnOnce(&mut Field),
    ) -> Builder {
        let mut field = Field::new(name, label, ty);
        adjust(&mut field);
        self.add(field, gen)
    }

    fn id(self) -> Builder {
        self.with("Id", "Record ID", FieldType::Id, Gen::Id, |f| {
            f.nillable = false;
            f.createable = false;
            f.updateable = false;
            f.defaulted_on_create = true;
        })
    }

    fn deleted_flag(self) -> Builder {
        self.with(
            "IsDeleted",
            "Deleted",
            FieldType::Boolean,
            Gen::False,
            read_only,
        )
    }

    fn name(self, label: &str, gen: Gen) -> Builder {
        self.with("Name", label, FieldType::String, gen, |f| {
            f.nillable = false;
            f.name_field = true;
            f.length = 255;
        })
    }

    fn reference(
        self,
        name: &str,
        label: &str,
        to: &[&str],
        relationship: &str,
        gen: Gen,
        required: bool,
    ) -> Builder {
        self.with(name, label, FieldType::Reference, gen, |f| {
            f.reference_to = to.iter().map(|s| s.to_string()).collect();
            f.relationship_name = Some(relationship.to_string());
            f.nillable = !required;
        })
    }

    fn owner(self) -> Builder {
        let mut b = self.reference("OwnerId", "Owner ID", &["User"], "Owner", Gen::User, true);
        // Salesforce defaults the owner to the creating user (describe: defaultedOnCreate).
        if let Some(f) = b
            .def
            .sobject
            .fields
            .iter_mut()
            .find(|f| f.name == "OwnerId")
        {
            f.defaulted_on_create = true;
        }
        b
    }

    /// CreatedDate, CreatedById, LastModifiedDate, LastModifiedById, SystemModstamp.
    fn audit(self) -> Builder {
        self.with(
            "CreatedDate",
            "Created Date",
            FieldType::DateTime,
            Gen::Created,
            audit_field,
        )
        .reference(
            "CreatedById",
            "Created By ID",
            &["User"],
            "CreatedBy",
            Gen::User,
            true,
        )
        .with(
            "LastModifiedDate",
            "Last Modified Date",
            FieldType::DateTime,
            Gen::Modified,
            audit_field,
        )
        .reference(
            "LastModifiedById",
            "Last Modified By ID",
            &["User"],
            "LastModifiedBy",
            Gen::User,
            true,
        )
        .with(
            "SystemModstamp",
            "System Modstamp",
            FieldType::DateTime,
            Gen::Modstamp,
            audit_field,
        )
        .fix_audit_refs()
    }

    fn fix_audit_refs(mut self) -> Builder {
        for f in &mut self.def.sobject.fields {
            if f.name == "CreatedById" || f.name == "LastModifiedById" {
                read_only(f);
                f.nillable = false;
            }
        }
        self
    }

    /// The components of an address compound field and the compound itself
    /// (`Billing` → BillingStreet … BillingAddress; `""` → Street … Address).
    fn address(self, prefix: &str) -> Builder {
        let compound = format!("{prefix}Address");
        let components: [(&str, &str, FieldType, Gen, u32); 8] = [
            ("Street", "Street", FieldType::Textarea, Gen::Street, 255),
            ("City", "City", FieldType::String, Gen::City, 40),
            ("State", "State/Province", FieldType::String, Gen::State, 80),
            (
                "PostalCode",
                "Zip/Postal Code",
                FieldType::String,
                Gen::PostalCode,
                20,
            ),
            ("Country", "Country", FieldType::String, Gen::Country, 80),
            ("Latitude", "Latitude", FieldType::Double, Gen::Latitude, 0),
            (
                "Longitude",
                "Longitude",
                FieldType::Double,
                Gen::Longitude,
                0,
            ),
            (
                "GeocodeAccuracy",
                "Geocode Accuracy",
                FieldType::Picklist,
                Gen::GeocodeAccuracy,
                40,
            ),
        ];
        let mut b = self;
        for (suffix, label, ty, gen, length) in components {
            let label = format!("{prefix} {label}");
            b = b.with(&format!("{prefix}{suffix}"), label.trim(), ty, gen, |f| {
                f.compound_field_name = Some(compound.clone());
                f.length = length;
                if ty == FieldType::Double {
                    f.precision = 18;
                    f.scale = 15;
                }
                if ty == FieldType::Picklist {
                    f.picklist_values = picklist(&[
                        "Address",
                        "NearAddress",
                        "Block",
                        "Street",
                        "ExtendedZip",
                        "Zip",
                        "Neighborhood",
                        "City",
                        "County",
                        "State",
                        "Unknown",
                    ]);
                    f.restricted_picklist = true;
                }
            });
        }
        let label = format!("{prefix} Address");
        b.with(
            &compound,
            label.trim(),
            FieldType::Address,
            Gen::Null,
            |_| {},
        )
    }

    /// A custom geolocation field `Name__c` with its `Name__Latitude__s` / `Name__Longitude__s`.
    fn geolocation(self, base: &str, label: &str) -> Builder {
        let compound = format!("{base}__c");
        let c1 = compound.clone();
        let c2 = compound.clone();
        self.with(
            &format!("{base}__Latitude__s"),
            &format!("{label} (Latitude)"),
            FieldType::Double,
            Gen::Latitude,
            move |f| {
                f.compound_field_name = Some(c1);
                f.precision = 9;
                f.scale = 6;
            },
        )
        .with(
            &format!("{base}__Longitude__s"),
            &format!("{label} (Longitude)"),
            FieldType::Double,
            Gen::Longitude,
            move |f| {
                f.compound_field_name = Some(c2);
                f.precision = 9;
                f.scale = 6;
            },
        )
        .with(&compound, label, FieldType::Location, Gen::Null, |f| {
            f.scale = 6
        })
    }

    fn pick(self, name: &str, label: &str, values: &[&str], null_percent: u8) -> Builder {
        self.with(
            name,
            label,
            FieldType::Picklist,
            Gen::Pick(null_percent),
            |f| f.picklist_values = picklist(values),
        )
    }

    fn formula(
        mut self,
        name: &str,
        label: &str,
        ty: FieldType,
        formula: Formula,
        text: &str,
    ) -> Builder {
        let index = self.def.sobject.fields.len();
        self.def.formulas.push((index, formula));
        self.with(name, label, ty, Gen::Null, |f| {
            read_only(f);
            f.calculated = true;
            f.calculated_formula = Some(text.to_string());
        })
    }

    /// A read-only field the org computes (not `calculated` in describe).
    fn derived(mut self, name: &str, label: &str, ty: FieldType, formula: Formula) -> Builder {
        let index = self.def.sobject.fields.len();
        self.def.formulas.push((index, formula));
        self.with(name, label, ty, Gen::Null, read_only)
    }

    fn fixed(mut self) -> Builder {
        self.def.fixed_count = true;
        self
    }

    fn build(self) -> ObjectDef {
        self.def
    }

    /// `add(self)`: a group of fields several objects share.
    fn apply(self, add: impl FnOnce(Builder) -> Builder) -> Builder {
        add(self)
    }
}

fn read_only(f: &mut Field) {
    f.createable = false;
    f.updateable = false;
}

fn audit_field(f: &mut Field) {
    read_only(f);
    f.nillable = false;
    f.defaulted_on_create = true;
}

fn long_text(f: &mut Field) {
    f.length = 32000;
    f.filterable = false;
    f.sortable = false;
    f.groupable = false;
}

const INDUSTRIES: [&str; 10] = [
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Consulting",
    "Education",
    "Energy",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Technology",
];
const LEAD_SOURCES: [&str; 5] = [
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
];
const STAGES: [&str; 10] = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
];
const CASE_STATUSES: [&str; 4] = ["New", "Working", "Escalated", "Closed"];

fn account() -> ObjectDef {
    Builder::new("Account", "Account", "Accounts", Some("001"), 200)
        .id()
        .deleted_flag()
        .name("Account Name", Gen::Company)
        .pick(
            "Type",
            "Account Type",
            &[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Partner",
                "Other",
            ],
            10,
        )
        .reference(
            "ParentId",
            "Parent Account ID",
            &["Account"],
            "Parent",
            Gen::Ref("Account", 80),
            false,
        )
        .address("Billing")
        .address("Shipping")
        .with(
            "Phone",
            "Account Phone",
            FieldType::Phone,
            Gen::Phone,
            |_| {},
        )
        .with("Website", "Website", FieldType::Url, Gen::Url, |_| {})
        .pick("Industry", "Industry", &INDUSTRIES, 5)
        .with(
            "AnnualRevenue",
            "Annual Revenue",
            FieldType::Currency,
            Gen::Double(10_000.0, 500_000_000.0, 0),
            |f| f.scale = 0,
        )
        .with(
            "NumberOfEmployees",
            "Employees",
            FieldType::Int,
            Gen::Int(1, 200_000),
            |f| f.digits = 8,
        )
        .pick("Rating", "Account Rating", &["Hot", "Warm", "Cold"], 20)
        .with(
            "AccountNumber",
            "Account Number",
            FieldType::String,
            Gen::Seq("ACC-"),
            |f| f.length = 40,
        )
        .with(
            "Description",
            "Account Description",
            FieldType::Textarea,
            Gen::Tricky,
            long_text,
        )
        .owner()
        .audit()
        .with(
            "LastActivityDate",
            "Last Activity",
            FieldType::Date,
            Gen::DateNear(30),
            read_only,
        )
        .with(
            "Regions__c",
            "Regions",
            FieldType::Multipicklist,
            Gen::MultiPick,
            |f| {
                f.picklist_values = picklist(&["AMER", "EMEA", "APAC", "LATAM"]);
            },
        )
        .formula(
            "Revenue_Per_Employee__c",
            "Revenue per Employee",
            FieldType::Currency,
            Formula::Ratio {
                numerator: "AnnualRevenue",
                denominator: "NumberOfEmployees",
            },
            "AnnualRevenue / NumberOfEmployees",
        )
        // An external id that is not unique (the "Unique" box unchecked), so children may name
        // their parent by it and two parents holding one value is DUPLICATE_EXTERNAL_ID.
        .with(
            "External_Id__c",
            "External Id",
            FieldType::String,
            Gen::Seq("ACCT-"),
            |f| {
                f.external_id = true;
                f.id_lookup = true;
                f.length = 64;
            },
        )
        // A custom picklist restricted to its values (the default for new custom picklists).
        .with("Tier__c", "Tier", FieldType::Picklist, Gen::Pick(30), |f| {
            f.picklist_values = picklist(&["Gold", "Silver", "Bronze"]);
            f.restricted_picklist = true;
        })
        .build()
}

fn contact() -> ObjectDef {
    Builder::new("Contact", "Contact", "Contacts", Some("003"), 400)
        .id()
        .deleted_flag()
        .reference(
            "AccountId",
            "Account ID",
            &["Account"],
            "Account",
            Gen::Ref("Account", 5),
            false,
        )
        .with(
            "LastName",
            "Last Name",
            FieldType::String,
            Gen::LastName,
            |f| {
                f.nillable = false;
                f.length = 80;
            },
        )
        .with(
            "FirstName",
            "First Name",
            FieldType::String,
            Gen::FirstName,
            |f| f.length = 40,
        )
        .with("Name", "Full Name", FieldType::String, Gen::FullName, |f| {
            read_only(f);
            f.name_field = true;
            f.length = 121;
        })
        .address("Mailing")
        .with(
            "Phone",
            "Business Phone",
            FieldType::Phone,
            Gen::Phone,
            |_| {},
        )
        .with("Email", "Email", FieldType::Email, Gen::Email, |f| {
            f.length = 80;
            // Contact.Email and Lead.Email are idLookup (they can name a parent).
            f.id_lookup = true;
        })
        .with("Title", "Title", FieldType::String, Gen::Title, |f| {
            f.length = 128
        })
        .pick("LeadSource", "Lead Source", &LEAD_SOURCES, 15)
        .with(
            "Birthdate",
            "Birthdate",
            FieldType::Date,
            Gen::DateNear(9000),
            |_| {},
        )
        .with(
            "DoNotCall",
            "Do Not Call",
            FieldType::Boolean,
            Gen::Bool(10),
            |_| {},
        )
        .with(
            "Description",
            "Contact Description",
            FieldType::Textarea,
            Gen::Tricky,
            long_text,
        )
        .owner()
        .audit()
        .build()
}

fn lead() -> ObjectDef {
    Builder::new("Lead", "Lead", "Leads", Some("00Q"), 300)
        .id()
        .deleted_flag()
        .with(
            "LastName",
            "Last Name",
            FieldType::String,
            Gen::LastName,
            |f| {
                f.nillable = false;
                f.length = 80;
            },
        )
        .with(
            "FirstName",
            "First Name",
            FieldType::String,
            Gen::FirstName,
            |f| f.length = 40,
        )
        .with("Name", "Full Name", FieldType::String, Gen::FullName, |f| {
            read_only(f);
            f.name_field = true;
            f.length = 121;
        })
        .with("Company", "Company", FieldType::String, Gen::Company, |f| {
            f.nillable = false
        })
        .address("")
        .with("Email", "Email", FieldType::Email, Gen::Email, |f| {
            f.length = 80;
            // Contact.Email and Lead.Email are idLookup (they can name a parent).
            f.id_lookup = true;
        })
        .with("Phone", "Phone", FieldType::Phone, Gen::Phone, |_| {})
        .pick(
            "Status",
            "Status",
            &[
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Converted",
                "Closed - Not Converted",
            ],
            0,
        )
        .pick("Rating", "Rating", &["Hot", "Warm", "Cold"], 30)
        .pick("LeadSource", "Lead Source", &LEAD_SOURCES, 10)
        .with(
            "IsConverted",
            "Converted",
            FieldType::Boolean,
            Gen::Bool(15),
            read_only,
        )
        .with(
            "AnnualRevenue",
            "Annual Revenue",
            FieldType::Currency,
            Gen::Double(0.0, 99_999_999.0, 2),
            |_| {},
        )
        .owner()
        .audit()
        .build()
}

fn opportunity() -> ObjectDef {
    Builder::new(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        Some("006"),
        300,
    )
    .id()
    .deleted_flag()
    .reference(
        "AccountId",
        "Account ID",
        &["Account"],
        "Account",
        Gen::Ref("Account", 2),
        false,
    )
    .name("Name", Gen::Words(0))
    .with(
        "StageName",
        "Stage",
        FieldType::Picklist,
        Gen::Pick(0),
        |f| {
            f.nillable = false;
            f.picklist_values = picklist(&STAGES);
        },
    )
    .with(
        "Amount",
        "Amount",
        FieldType::Currency,
        Gen::Double(500.0, 2_000_000.0, 2),
        |_| {},
    )
    .with(
        "Probability",
        "Probability (%)",
        FieldType::Percent,
        Gen::Int(0, 101),
        |f| f.scale = 0,
    )
    .with(
        "CloseDate",
        "Close Date",
        FieldType::Date,
        Gen::DateNear(120),
        |f| f.nillable = false,
    )
    .pick(
        "Type",
        "Opportunity Type",
        &["New Business", "Existing Business"],
        20,
    )
    .pick("LeadSource", "Lead Source", &LEAD_SOURCES, 20)
    .with(
        "IsClosed",
        "Closed",
        FieldType::Boolean,
        Gen::Bool(30),
        read_only,
    )
    .with("IsWon", "Won", FieldType::Boolean, Gen::Bool(15), read_only)
    .pick(
        "ForecastCategoryName",
        "Forecast Category",
        &["Pipeline", "Best Case", "Commit", "Omitted", "Closed"],
        0,
    )
    .with(
        "ExpectedRevenue",
        "Expected Amount",
        FieldType::Currency,
        Gen::Double(0.0, 1_000_000.0, 2),
        read_only,
    )
    .with(
        "TotalOpportunityQuantity",
        "Quantity",
        FieldType::Double,
        Gen::Double(1.0, 1000.0, 2),
        |_| {},
    )
    .with(
        "Description",
        "Description",
        FieldType::Textarea,
        Gen::Paragraph,
        long_text,
    )
    .owner()
    .audit()
    .build()
}

fn case() -> ObjectDef {
    Builder::new("Case", "Case", "Cases", Some("500"), 250)
        .id()
        .deleted_flag()
        .with(
            "CaseNumber",
            "Case Number",
            FieldType::String,
            Gen::Seq(""),
            |f| {
                read_only(f);
                f.auto_number = true;
                f.name_field = true;
                f.length = 30;
                f.nillable = false;
            },
        )
        .reference(
            "AccountId",
            "Account ID",
            &["Account"],
            "Account",
            Gen::Ref("Account", 10),
            false,
        )
        .reference(
            "ContactId",
            "Contact ID",
            &["Contact"],
            "Contact",
            Gen::Ref("Contact", 10),
            false,
        )
        .pick("Status", "Status", &CASE_STATUSES, 0)
        .pick("Priority", "Priority", &["High", "Medium", "Low"], 0)
        .pick("Origin", "Case Origin", &["Phone", "Email", "Web"], 5)
        .with(
            "Subject",
            "Subject",
            FieldType::String,
            Gen::Words(2),
            |_| {},
        )
        .with(
            "Description",
            "Description",
            FieldType::Textarea,
            Gen::Tricky,
            long_text,
        )
        .with(
            "IsClosed",
            "Closed",
            FieldType::Boolean,
            Gen::Bool(40),
            read_only,
        )
        .with(
            "ClosedDate",
            "Closed Date",
            FieldType::DateTime,
            Gen::DateTimeAfter,
            read_only,
        )
        .with(
            "IsEscalated",
            "Escalated",
            FieldType::Boolean,
            Gen::Bool(5),
            |_| {},
        )
        .with(
            "SuppliedEmail",
            "Web Email",
            FieldType::Email,
            Gen::Email,
            |f| f.length = 80,
        )
        .owner()
        .audit()
        .build()
}

fn user() -> ObjectDef {
    let mut def = Builder::new("User", "User", "Users", Some("005"), 20)
        .id()
        .with(
            "Username",
            "Username",
            FieldType::String,
            Gen::Username,
            |f| {
                f.nillable = false;
                f.unique = true;
                f.id_lookup = true;
                f.length = 80;
            },
        )
        .with(
            "LastName",
            "Last Name",
            FieldType::String,
            Gen::LastName,
            |f| f.nillable = false,
        )
        .with(
            "FirstName",
            "First Name",
            FieldType::String,
            Gen::FirstName,
            |_| {},
        )
        .with("Name", "Full Name", FieldType::String, Gen::FullName, |f| {
            read_only(f);
            f.name_field = true;
        })
        .with("Email", "Email", FieldType::Email, Gen::Email, |f| {
            f.nillable = false
        })
        .with("Alias", "Alias", FieldType::String, Gen::Seq("u"), |f| {
            f.length = 8
        })
        .with(
            "IsActive",
            "Active",
            FieldType::Boolean,
            Gen::Bool(90),
            |_| {},
        )
        .pick(
            "TimeZoneSidKey",
            "Time Zone",
            &[
                "America/Los_Angeles",
                "America/New_York",
                "Europe/London",
                "Europe/Paris",
                "Asia/Tokyo",
            ],
            0,
        )
        .with(
            "LastLoginDate",
            "Last Login",
            FieldType::DateTime,
            Gen::DateTimeAfter,
            read_only,
        )
        .audit()
        .build();
    def.sobject.deletable = false;
    def.sobject.undeletable = false;
    def
}

fn activity(name: &str, label: &str, plural: &str, prefix: &str, base: u64) -> Builder {
    Builder::new(name, label, plural, Some(prefix), base)
        .id()
        .deleted_flag()
        .reference(
            "WhoId",
            "Name ID",
            &["Contact", "Lead"],
            "Who",
            Gen::Ref("Contact", 20),
            false,
        )
        .reference(
            "WhatId",
            "Related To ID",
            &["Account", "Opportunity"],
            "What",
            Gen::Ref("Account", 20),
            false,
        )
        .with(
            "Subject",
            "Subject",
            FieldType::Combobox,
            Gen::Pick(5),
            |f| f.picklist_values = picklist(&["Call", "Send Letter", "Send Quote", "Other"]),
        )
        .with(
            "ActivityDate",
            "Due Date Only",
            FieldType::Date,
            Gen::DateNear(14),
            |_| {},
        )
        .with(
            "Description",
            "Description",
            FieldType::Textarea,
            Gen::Tricky,
            long_text,
        )
        .owner()
}

fn task() -> ObjectDef {
    activity("Task", "Task", "Tasks", "00T", 500)
        .pick(
            "Status",
            "Status",
            &[
                "Not Started",
                "In Progress",
                "Completed",
                "Waiting on someone else",
                "Deferred",
            ],
            0,
        )
        .pick("Priority", "Priority", &["High", "Normal", "Low"], 0)
        .with(
            "IsClosed",
            "Closed",
            FieldType::Boolean,
            Gen::Bool(50),
            read_only,
        )
        .with(
            "CallDurationInSeconds",
            "Call Duration",
            FieldType::Int,
            Gen::Int(0, 3600),
            |_| {},
        )
        .with(
            "IsArchived",
            "Archived",
            FieldType::Boolean,
            Gen::False,
            read_only,
        )
        .audit()
        .build()
}

fn event() -> ObjectDef {
    activity("Event", "Event", "Events", "00U", 300)
        .with(
            "StartDateTime",
            "Start",
            FieldType::DateTime,
            Gen::DateTimeAfter,
            |_| {},
        )
        .with(
            "EndDateTime",
            "End",
            FieldType::DateTime,
            Gen::DateTimeAfter,
            |_| {},
        )
        .with(
            "DurationInMinutes",
            "Duration",
            FieldType::Int,
            Gen::Int(15, 240),
            |_| {},
        )
        .with("Location", "Location", FieldType::String, Gen::City, |f| {
            f.length = 255
        })
        .with(
            "IsAllDayEvent",
            "All-Day Event",
            FieldType::Boolean,
            Gen::Bool(10),
            |_| {},
        )
        .with(
            "ShowAs",
            "Show Time As",
            FieldType::Picklist,
            Gen::Pick(0),
            |f| f.picklist_values = picklist(&["Busy", "OutOfOffice", "Free"]),
        )
        .with(
            "IsArchived",
            "Archived",
            FieldType::Boolean,
            Gen::False,
            read_only,
        )
        .audit()
        .build()
}

fn campaign() -> ObjectDef {
    Builder::new("Campaign", "Campaign", "Campaigns", Some("701"), 30)
        .id()
        .deleted_flag()
        .name("Name", Gen::Words(0))
        .pick(
            "Type",
            "Type",
            &[
                "Conference",
                "Webinar",
                "Trade Show",
                "Email",
                "Advertisement",
            ],
            5,
        )
        .pick(
            "Status",
            "Status",
            &["Planned", "In Progress", "Completed", "Aborted"],
            0,
        )
        .with(
            "StartDate",
            "Start Date",
            FieldType::Date,
            Gen::DateNear(20),
            |_| {},
        )
        .with(
            "EndDate",
            "End Date",
            FieldType::Date,
            Gen::DateNear(60),
            |_| {},
        )
        .with(
            "BudgetedCost",
            "Budgeted Cost in Campaign",
            FieldType::Currency,
            Gen::Double(1000.0, 250_000.0, 2),
            |_| {},
        )
        .with(
            "ExpectedResponse",
            "Expected Response (%)",
            FieldType::Percent,
            Gen::Double(0.0, 100.0, 2),
            |_| {},
        )
        .with(
            "NumberOfLeads",
            "Leads in Campaign",
            FieldType::Int,
            Gen::Int(0, 5000),
            read_only,
        )
        .with(
            "IsActive",
            "Active",
            FieldType::Boolean,
            Gen::Bool(60),
            |_| {},
        )
        .reference(
            "ParentId",
            "Parent Campaign ID",
            &["Campaign"],
            "Parent",
            Gen::Ref("Campaign", 70),
            false,
        )
        .owner()
        .audit()
        .build()
}

fn opportunity_field_history() -> ObjectDef {
    let mut def = Builder::new(
        "OpportunityFieldHistory",
        "Opportunity Field History",
        "Opportunity Field History",
        Some("017"),
        600,
    )
    .id()
    .deleted_flag()
    .reference(
        "OpportunityId",
        "Opportunity ID",
        &["Opportunity"],
        "Opportunity",
        Gen::Ref("Opportunity", 0),
        true,
    )
    .reference(
        "CreatedById",
        "Created By ID",
        &["User"],
        "CreatedBy",
        Gen::User,
        true,
    )
    .with(
        "CreatedDate",
        "Created Date",
        FieldType::DateTime,
        Gen::Created,
        audit_field,
    )
    .with(
        "Field",
        "Changed Field",
        FieldType::Picklist,
        Gen::Pick(0),
        |f| {
            read_only(f);
            f.picklist_values = picklist(&["StageName", "Amount", "CloseDate", "Owner", "created"]);
        },
    )
    .pick(
        "DataType",
        "Data Type",
        &["Text", "Currency", "Date", "EntityId"],
        0,
    )
    .with(
        "OldValue",
        "Old Value",
        FieldType::AnyType,
        Gen::HistoryValue,
        |f| {
            read_only(f);
            f.filterable = false;
            f.sortable = false;
            f.groupable = false;
        },
    )
    .with(
        "NewValue",
        "New Value",
        FieldType::AnyType,
        Gen::HistoryValue,
        |f| {
            read_only(f);
            f.filterable = false;
            f.sortable = false;
            f.groupable = false;
        },
    )
    .fix_audit_refs()
    .build();
    for f in &mut def.sobject.fields {
        read_only(f);
    }
    def.sobject.createable = false;
    def.sobject.updateable = false;
    def.sobject.deletable = false;
    def.sobject.undeletable = false;
    def.sobject.searchable = false;
    def.sobject.triggerable = false;
    def
}

fn login_history() -> ObjectDef {
    let mut def = Builder::new(
        "LoginHistory",
        "Login History",
        "Login History",
        Some("0Ya"),
        500,
    )
    .id()
    .reference("UserId", "User ID", &["User"], "User", Gen::User, false)
    .with(
        "LoginTime",
        "Login Time",
        FieldType::DateTime,
        Gen::Created,
        audit_field,
    )
    .pick(
        "LoginType",
        "Login Type",
        &[
            "Application",
            "Remote Access 2.0",
            "SAML Sfdc Initiated SSO",
            "Other Apex API",
        ],
        0,
    )
    .with("SourceIp", "Source IP", FieldType::String, Gen::Ip, |f| {
        f.length = 39
    })
    .with(
        "LoginUrl",
        "Login URL",
        FieldType::String,
        Gen::Const("login.salesforce.com"),
        |_| {},
    )
    .with(
        "Browser",
        "Browser",
        FieldType::String,
        Gen::Fixed(&["Chrome 120", "Firefox 121", "Safari 17", "Unknown"]),
        |f| f.length = 64,
    )
    .with(
        "Platform",
        "Platform",
        FieldType::String,
        Gen::Fixed(&["Mac OSX", "Windows 10", "Linux", "iOS"]),
        |f| f.length = 64,
    )
    .with(
        "Status",
        "Status",
        FieldType::String,
        Gen::Fixed(&["Success", "Success", "Success", "Invalid Password"]),
        |f| f.length = 128,
    )
    .with(
        "Application",
        "Application",
        FieldType::String,
        Gen::Fixed(&["Browser", "Airbyte", "Data Loader"]),
        |f| f.length = 64,
    )
    .build();
    for f in &mut def.sobject.fields {
        read_only(f);
    }
    def.sobject.createable = false;
    def.sobject.updateable = false;
    def.sobject.deletable = false;
    def.sobject.undeletable = false;
    def.sobject.triggerable = false;
    def.sobject.searchable = false;
    def
}

fn attachment() -> ObjectDef {
    let mut def = Builder::new("Attachment", "Attachment", "Attachments", Some("00P"), 50)
        .id()
        .deleted_flag()
        .reference(
            "ParentId",
            "Parent ID",
            &["Account", "Opportunity", "Case"],
            "Parent",
            Gen::Ref("Account", 0),
            true,
        )
        .with(
            "Name",
            "File Name",
            FieldType::String,
            Gen::Seq("attachment-"),
            |f| {
                f.nillable = false;
                f.name_field = true;
            },
        )
        .with(
            "IsPrivate",
            "Private",
            FieldType::Boolean,
            Gen::Bool(10),
            |_| {},
        )
        .with(
            "ContentType",
            "Content Type",
            FieldType::String,
            Gen::Const("application/octet-stream"),
            |f| f.length = 120,
        )
        .derived(
            "BodyLength",
            "Body Length",
            FieldType::Int,
            Formula::ByteLength { field: "Body" },
        )
        .with("Body", "Body", FieldType::Base64, Gen::Blob, |f| {
            f.nillable = false
        })
        .owner()
        .audit()
        .with(
            "Description",
            "Description",
            FieldType::Textarea,
            Gen::Paragraph,
            |f| f.length = 500,
        )
        .build();
    // Salesforce's Bulk API does not support Attachment (facts §3; Airbyte reads it via REST).
    def.sobject.bulk_queryable = false;
    def
}

fn content_version() -> ObjectDef {
    Builder::new(
        "ContentVersion",
        "Content Version",
        "Content Versions",
        Some("068"),
        30,
    )
    .id()
    .deleted_flag()
    .with("Title", "Title", FieldType::String, Gen::Words(0), |f| {
        f.nillable = false;
        f.name_field = true;
    })
    .with(
        "PathOnClient",
        "Path On Client",
        FieldType::String,
        Gen::Seq("file-"),
        |f| f.length = 500,
    )
    .with(
        "VersionData",
        "Version Data",
        FieldType::Base64,
        Gen::Blob,
        |_| {},
    )
    .with(
        "ContentSize",
        "Size",
        FieldType::Int,
        Gen::Int(16, 216),
        read_only,
    )
    .with(
        "FileType",
        "File Type",
        FieldType::String,
        Gen::Fixed(&["PDF", "PNG", "CSV", "UNKNOWN"]),
        read_only,
    )
    .owner()
    .audit()
    .build()
}

fn case_status() -> ObjectDef {
    let mut def = Builder::new(
        "CaseStatus",
        "Case Status Value",
        "Case Status Value",
        Some("01J"),
        4,
    )
    .id()
    .with(
        "MasterLabel",
        "Master Label",
        FieldType::String,
        Gen::Fixed(&CASE_STATUSES),
        read_only,
    )
    .with(
        "ApiName",
        "Api Name",
        FieldType::String,
        Gen::Fixed(&CASE_STATUSES),
        read_only,
    )
    .with(
        "SortOrder",
        "Sort Order",
        FieldType::Int,
        Gen::Int(1, 20),
        read_only,
    )
    .with(
        "IsDefault",
        "Is Default",
        FieldType::Boolean,
        Gen::Bool(25),
        read_only,
    )
    .with(
        "IsClosed",
        "Closed",
        FieldType::Boolean,
        Gen::Bool(25),
        read_only,
    )
    .audit()
    .fixed()
    .build();
    def.sobject.createable = false;
    def.sobject.updateable = false;
    def.sobject.deletable = false;
    def.sobject.undeletable = false;
    def.sobject.searchable = false;
    def.sobject.triggerable = false;
    def.sobject.replicateable = false;
    // Not supported by the Bulk API (Salesforce's docs; Airbyte's UNSUPPORTED_BULK_API list).
    def.sobject.bulk_queryable = false;
    def
}

/// An object with no date field at all, so no cursor: readers must use full refresh.
fn opportunity_stage() -> ObjectDef {
    let mut def = Builder::new(
        "OpportunityStage",
        "Opportunity Stage",
        "Opportunity Stages",
        Some("01J"),
        10,
    )
    .id()
    .with(
        "MasterLabel",
        "Master Label",
        FieldType::String,
        Gen::Fixed(&STAGES),
        read_only,
    )
    .with(
        "ApiName",
        "Api Name",
        FieldType::String,
        Gen::Fixed(&STAGES),
        read_only,
    )
    .with(
        "IsActive",
        "Is Active",
        FieldType::Boolean,
        Gen::True,
        read_only,
    )
    .with(
        "SortOrder",
        "Sort Order",
        FieldType::Int,
        Gen::Int(1, 11),
        read_only,
    )
    .with(
        "IsClosed",
        "Closed",
        FieldType::Boolean,
        Gen::Bool(20),
        read_only,
    )
    .with("IsWon", "Won", FieldType::Boolean, Gen::Bool(10), read_only)
    .pick(
        "ForecastCategoryName",
        "Forecast Category",
        &["Pipeline", "Best Case", "Commit", "Omitted", "Closed"],
        0,
    )
    .with(
        "DefaultProbability",
        "Probability (%)",
        FieldType::Percent,
        Gen::Int(0, 101),
        read_only,
    )
    .with(
        "Description",
        "Description",
        FieldType::String,
        Gen::Words(50),
        read_only,
    )
    .fixed()
    .build();
    def.sobject.key_prefix = Some("01J".to_string());
    def.sobject.createable = false;
    def.sobject.updateable = false;
    def.sobject.deletable = false;
    def.sobject.undeletable = false;
    def.sobject.replicateable = false;
    def
}

/// Custom object with an external id (upsert key) and the rarer field types.
fn product_catalog() -> ObjectDef {
    Builder::new(
        "Product_Catalog__c",
        "Product Catalog",
        "Product Catalogs",
        Some("a00"),
        100,
    )
    .id()
    .deleted_flag()
    .name("Product Catalog Name", Gen::Words(0))
    .with(
        "External_Id__c",
        "External Id",
        FieldType::String,
        Gen::Seq("EXT-"),
        |f| {
            f.external_id = true;
            f.unique = true;
            f.id_lookup = true;
            f.length = 64;
        },
    )
    .with(
        "Price__c",
        "Price",
        FieldType::Currency,
        Gen::Double(1.0, 10_000.0, 2),
        |f| f.precision = 16,
    )
    .with(
        "Weight_Kg__c",
        "Weight (kg)",
        FieldType::Double,
        Gen::Double(0.01, 90_000_000.0, 3),
        |f| f.scale = 3,
    )
    .with(
        "Discount__c",
        "Discount",
        FieldType::Percent,
        Gen::Double(0.0, 50.0, 1),
        |_| {},
    )
    .with(
        "Units_Sold__c",
        "Units Sold",
        FieldType::Long,
        Gen::Int(0, 9_000_000_000),
        |_| {},
    )
    .with(
        "In_Stock__c",
        "In Stock",
        FieldType::Boolean,
        Gen::Bool(70),
        |_| {},
    )
    .with(
        "Launch_Date__c",
        "Launch Date",
        FieldType::Date,
        Gen::DateNear(200),
        |_| {},
    )
    .with(
        "Support_Email__c",
        "Support Email",
        FieldType::Email,
        Gen::Email,
        |_| {},
    )
    .with(
        "Support_Phone__c",
        "Support Phone",
        FieldType::Phone,
        Gen::Phone,
        |_| {},
    )
    .with("Homepage__c", "Homepage", FieldType::Url, Gen::Url, |_| {})
    .with(
        "License_Key__c",
        "License Key",
        FieldType::EncryptedString,
        Gen::Seq("LK-"),
        |f| {
            f.length = 175;
            f.filterable = false;
            f.sortable = false;
        },
    )
    .with(
        "Category__c",
        "Category",
        FieldType::Combobox,
        Gen::Pick(10),
        |f| f.picklist_values = picklist(&["Hardware", "Software", "Services"]),
    )
    .with(
        "Channels__c",
        "Channels",
        FieldType::Multipicklist,
        Gen::MultiPick,
        |f| f.picklist_values = picklist(&["Online", "Retail", "Partner", "Direct"]),
    )
    .with("Notes__c", "Notes", FieldType::Textarea, Gen::Tricky, |f| {
        f.length = 255
    })
    .with(
        "Attributes__c",
        "Attributes",
        FieldType::Json,
        Gen::Json,
        |f| {
            f.filterable = false;
            f.sortable = false;
            f.groupable = false;
        },
    )
    .reference(
        "Supplier__c",
        "Supplier",
        &["Account"],
        "Supplier__r",
        Gen::Ref("Account", 20),
        false,
    )
    .owner()
    .audit()
    .build()
}

/// Custom object with a geolocation compound field and a time field.
fn store() -> ObjectDef {
    Builder::new("Store__c", "Store", "Stores", Some("a01"), 100)
        .id()
        .deleted_flag()
        .name("Store Name", Gen::Seq("Store "))
        .reference(
            "Account__c",
            "Account",
            &["Account"],
            "Account__r",
            Gen::Ref("Account", 10),
            false,
        )
        .geolocation("Location", "Location")
        .with(
            "Opened_On__c",
            "Opened On",
            FieldType::Date,
            Gen::DateNear(365),
            |_| {},
        )
        .with(
            "Opening_Time__c",
            "Opening Time",
            FieldType::Time,
            Gen::Time,
            |_| {},
        )
        .with(
            "Last_Audit__c",
            "Last Audit",
            FieldType::DateTime,
            Gen::DateTimeAfter,
            |_| {},
        )
        .with(
            "Square_Meters__c",
            "Square Meters",
            FieldType::Double,
            Gen::Double(20.0, 20_000.0, 1),
            |_| {},
        )
        .with(
            "Employees__c",
            "Employees",
            FieldType::Int,
            Gen::Int(1, 500),
            |_| {},
        )
        .pick(
            "Format__c",
            "Format",
            &["Flagship", "Outlet", "Pop-up", "Kiosk"],
            10,
        )
        .owner()
        .audit()
        .build()
}

/// More than 600 fields and few rows: readers must split the field list (URI length).
fn wide_record() -> ObjectDef {
    let mut b = Builder::new(
        "Wide_Record__c",
        "Wide Record",
        "Wide Records",
        Some("a02"),
        20,
    )
    .id()
    .deleted_flag()
    .name("Wide Record Name", Gen::Seq("W-"))
    .owner()
    .audit();
    for i in 1..=620u32 {
        let name = format!("Attribute_{i:03}__c");
        let label = format!("Attribute {i:03}");
        b = match i % 5 {
            0 => b.with(&name, &label, FieldType::String, Gen::Words(20), |f| {
                f.length = 80
            }),
            1 => b.with(
                &name,
                &label,
                FieldType::Double,
                Gen::Double(0.0, 1000.0, 2),
                |_| {},
            ),
            2 => b.with(&name, &label, FieldType::Boolean, Gen::Bool(50), |_| {}),
            3 => b.with(&name, &label, FieldType::Date, Gen::DateNear(100), |_| {}),
            _ => b.with(&name, &label, FieldType::Picklist, Gen::Pick(20), |f| {
                f.picklist_values = picklist(&["Alpha", "Beta", "Gamma"])
            }),
        };
    }
    b.build()
}

/// Thirty fields; the benchmark sizes it to a million rows.
fn bench_record() -> ObjectDef {
    Builder::new(
        "Bench_Record__c",
        "Bench Record",
        "Bench Records",
        Some("a03"),
        1000,
    )
    .id()
    .deleted_flag()
    .name("Bench Record Name", Gen::Seq("BR-"))
    .owner()
    .audit()
    .apply(bench_fields)
    .with(
        "Account__c",
        "Account",
        FieldType::Reference,
        Gen::Ref("Account", 10),
        |f| {
            f.reference_to = vec!["Account".to_string()];
            f.relationship_name = Some("Account__r".to_string());
        },
    )
    .build()
}

/// The 20 typed custom fields both bench objects have, in Bench_Record__c's order.
fn bench_fields(builder: Builder) -> Builder {
    builder
        .with("Email__c", "Email", FieldType::Email, Gen::Email, |_| {})
        .with("Phone__c", "Phone", FieldType::Phone, Gen::Phone, |_| {})
        .with(
            "Company__c",
            "Company",
            FieldType::String,
            Gen::Company,
            |_| {},
        )
        .with(
            "First_Name__c",
            "First Name",
            FieldType::String,
            Gen::FirstName,
            |_| {},
        )
        .with(
            "Last_Name__c",
            "Last Name",
            FieldType::String,
            Gen::LastName,
            |_| {},
        )
        .with("City__c", "City", FieldType::String, Gen::City, |_| {})
        .with(
            "Country__c",
            "Country",
            FieldType::String,
            Gen::Country,
            |_| {},
        )
        .pick(
            "Status__c",
            "Status",
            &["New", "Active", "Dormant", "Closed"],
            5,
        )
        .pick(
            "Tier__c",
            "Tier",
            &["Bronze", "Silver", "Gold", "Platinum"],
            5,
        )
        .with(
            "Amount__c",
            "Amount",
            FieldType::Currency,
            Gen::Double(0.0, 1_000_000.0, 2),
            |_| {},
        )
        .with(
            "Score__c",
            "Score",
            FieldType::Double,
            Gen::Double(0.0, 100.0, 3),
            |_| {},
        )
        .with(
            "Ratio__c",
            "Ratio",
            FieldType::Percent,
            Gen::Double(0.0, 100.0, 2),
            |_| {},
        )
        .with(
            "Quantity__c",
            "Quantity",
            FieldType::Int,
            Gen::Int(0, 100_000),
            |_| {},
        )
        .with(
            "Active__c",
            "Active",
            FieldType::Boolean,
            Gen::Bool(50),
            |_| {},
        )
        .with(
            "Verified__c",
            "Verified",
            FieldType::Boolean,
            Gen::Bool(20),
            |_| {},
        )
        .with(
            "Start_Date__c",
            "Start Date",
            FieldType::Date,
            Gen::DateNear(90),
            |_| {},
        )
        .with(
            "End_Date__c",
            "End Date",
            FieldType::Date,
            Gen::DateNear(400),
            |_| {},
        )
        .with(
            "Last_Seen__c",
            "Last Seen",
            FieldType::DateTime,
            Gen::DateTimeAfter,
            |_| {},
        )
        .with("Notes__c", "Notes", FieldType::String, Gen::Tricky, |_| {})
        .with("Website__c", "Website", FieldType::Url, Gen::Url, |_| {})
}

/// The destination benchmark's target: a custom object with 30 createable fields of simple
/// types (Name, the 20 bench fields and 9 more), few records of its own.
fn bench_load() -> ObjectDef {
    use FieldType as T;
    let more: [(&str, &str, FieldType, Gen); 9] = [
        ("Title__c", "Title", T::String, Gen::Title),
        ("Region__c", "Region", T::String, Gen::Words(10)),
        ("Street__c", "Street", T::String, Gen::Words(10)),
        (
            "Balance__c",
            "Balance",
            T::Currency,
            Gen::Double(0.0, 100_000.0, 2),
        ),
        (
            "Discount__c",
            "Discount",
            T::Percent,
            Gen::Double(0.0, 50.0, 2),
        ),
        ("Units__c", "Units", T::Int, Gen::Int(0, 1_000)),
        ("Opted_In__c", "Opted In", T::Boolean, Gen::Bool(70)),
        (
            "Renewal_Date__c",
            "Renewal Date",
            T::Date,
            Gen::DateNear(700),
        ),
        ("Code__c", "Code", T::String, Gen::Seq("BL-")),
    ];
    let mut builder = Builder::new(
        "Bench_Load__c",
        "Bench Load",
        "Bench Loads",
        Some("a04"),
        10,
    )
    .id()
    .deleted_flag()
    .name("Bench Load Name", Gen::Seq("BL-"))
    .owner()
    .audit()
    .apply(bench_fields);
    for (name, label, ty, gen) in more {
        builder = builder.with(name, label, ty, gen, |_| {});
    }
    builder.build()
}

/// `count` further custom objects, `Extra_Object_0001__c` and on, for measuring how a client
/// copes with a large org (`--extra-objects`): each has the standard system fields and a few
/// typed fields, and `base_count` records of its own.
pub fn extra_objects(count: u32) -> Vec<ObjectDef> {
    const DIGITS: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    (1..=count)
        .map(|i| {
            let name = format!("Extra_Object_{i:04}__c");
            let label = format!("Extra Object {i}");
            // `x` and two base-36 digits: 1,296 prefixes, none used by the named objects.
            let n = i as usize;
            let prefix = format!(
                "x{}{}",
                DIGITS[(n / 36) % 36] as char,
                DIGITS[n % 36] as char
            );
            Builder::new(&name, &label, &label, Some(&prefix), 2)
                .id()
                .deleted_flag()
                .name("Name", Gen::Seq("EX-"))
                .owner()
                .audit()
                .with(
                    "Amount__c",
                    "Amount",
                    FieldType::Currency,
                    Gen::Double(0.0, 1e6, 2),
                    |_| {},
                )
                .with(
                    "Count__c",
                    "Count",
                    FieldType::Int,
                    Gen::Int(0, 1000),
                    |_| {},
                )
                .with(
                    "Active__c",
                    "Active",
                    FieldType::Boolean,
                    Gen::Bool(50),
                    |_| {},
                )
                .with("Due__c", "Due", FieldType::Date, Gen::DateNear(30), |_| {})
                .with(
                    "Notes__c",
                    "Notes",
                    FieldType::String,
                    Gen::Words(20),
                    |_| {},
                )
                .pick("Stage__c", "Stage", &["Open", "Won", "Lost"], 5)
                .build()
        })
        .collect()
}

/// Every object of the org, in describeGlobal order.
pub fn objects() -> Vec<ObjectDef> {
    vec![
        account(),
        contact(),
        lead(),
        opportunity(),
        case(),
        user(),
        task(),
        event(),
        campaign(),
        opportunity_field_history(),
        login_history(),
        attachment(),
        content_version(),
        case_status(),
        opportunity_stage(),
        product_catalog(),
        store(),
        wide_record(),
        bench_record(),
        bench_load(),
    ]
}
