//! Whom a FHIR export's data is about. An Observation names its patient in `subject`, by a
//! reference (`Patient/123`, a bundle's `urn:uuid:…`, an absolute URL) or by an identifier
//! (a system and a value); the Patient resources in the export say which references and
//! identifiers are the same person. Data is gathered by subject as written while the file
//! streams, and put together by person at the end, when every Patient has been seen.

use super::super::Export;
use std::collections::HashMap;

/// An identifier as FHIR writes one: a value in a system (a namespace such as a national
/// health number's or an insurer's member number's URI).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identifier {
    pub system: Option<String>,
    pub value: String,
}

/// Whom data is about, as far as the export says: the Patient's id, its identifiers, or the
/// reference an Observation wrote when no Patient in the export matched it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    pub reference: Option<String>,
    pub id: Option<String>,
    pub identifiers: Vec<Identifier>,
}

impl Person {
    /// Whether the export said nothing of whom this is about.
    pub fn is_nobody(&self) -> bool {
        self.reference.is_none() && self.id.is_none() && self.identifiers.is_empty()
    }

    /// The person's value in identifier `system`; without a system, the Patient's id, else
    /// its only identifier's value.
    pub fn key(&self, system: Option<&str>) -> Option<&str> {
        match system {
            Some(system) => self
                .identifiers
                .iter()
                .find(|i| i.system.as_deref() == Some(system))
                .map(|i| i.value.as_str()),
            None => self.id.as_deref().or(match self.identifiers.as_slice() {
                [only] => Some(only.value.as_str()),
                _ => None,
            }),
        }
    }

    /// The person in a message: `Patient/123`, an identifier, or `no subject`.
    pub fn describe(&self) -> String {
        if let Some(id) = &self.id {
            return format!("Patient/{}", crate::text::excerpt(id));
        }
        if let Some(r) = &self.reference {
            return crate::text::excerpt(r);
        }
        match self.identifiers.first() {
            Some(i) => format!(
                "identifier {}|{}",
                crate::text::excerpt(i.system.as_deref().unwrap_or("")),
                crate::text::excerpt(&i.value)
            ),
            None => "no subject".into(),
        }
    }
}

/// An Observation's `subject`, as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Reference(String),
    Identifier(Identifier),
    Nobody,
}

/// A Patient resource met in the export.
#[derive(Debug)]
struct PatientSeen {
    full_url: Option<String>,
    id: Option<String>,
    identifiers: Vec<Identifier>,
}

impl PatientSeen {
    fn is(&self, subject: &Subject) -> bool {
        match subject {
            Subject::Reference(r) => {
                self.full_url.as_deref() == Some(r.as_str())
                    || self.id.as_deref().is_some_and(|id| {
                        // `Patient/123`, or an absolute URL ending in it.
                        r.strip_suffix(id)
                            .and_then(|head| head.strip_suffix("Patient/"))
                            .is_some_and(|base| base.is_empty() || base.ends_with('/'))
                    })
            }
            Subject::Identifier(i) => self.identifiers.contains(i),
            Subject::Nobody => false,
        }
    }
}

/// The data read so far, by subject as written, and the patients met.
#[derive(Debug, Default)]
pub struct Gathering {
    by_subject: Vec<(Subject, Export)>,
    index: HashMap<Subject, usize>,
    patients: Vec<PatientSeen>,
}

impl Gathering {
    /// Adds what `add` puts in the export about `subject`.
    pub fn about(&mut self, subject: Subject, add: impl FnOnce(&mut Export)) {
        let at = match self.index.get(&subject) {
            Some(at) => *at,
            None => {
                self.by_subject.push((subject.clone(), Export::default()));
                let at = self.by_subject.len() - 1;
                self.index.insert(subject, at);
                at
            }
        };
        if let Some((_, export)) = self.by_subject.get_mut(at) {
            add(export);
        }
    }

    pub fn patient(
        &mut self,
        full_url: Option<String>,
        id: Option<String>,
        identifiers: Vec<Identifier>,
    ) {
        self.patients.push(PatientSeen {
            full_url,
            id,
            identifiers,
        });
    }

    /// The data by person, in the order first met: subjects that name the same Patient
    /// (by reference, by full URL, by identifier) are one person.
    pub fn by_person(self) -> Vec<(Person, Export)> {
        #[derive(PartialEq)]
        enum Who {
            Patient(usize),
            Unmatched(Subject),
        }
        let mut out: Vec<(Who, Person, Export)> = Vec::new();
        for (subject, export) in self.by_subject {
            let matched = self.patients.iter().position(|p| p.is(&subject));
            let who = match matched {
                Some(at) => Who::Patient(at),
                None => Who::Unmatched(subject.clone()),
            };
            if let Some((_, _, gathered)) = out.iter_mut().find(|(w, ..)| *w == who) {
                gathered.readings.extend(export.readings);
                gathered.labs.extend(export.labs);
                continue;
            }
            let person = match matched.and_then(|at| self.patients.get(at)) {
                Some(p) => Person {
                    reference: match &subject {
                        Subject::Reference(r) => Some(r.clone()),
                        _ => None,
                    },
                    id: p.id.clone(),
                    identifiers: p.identifiers.clone(),
                },
                None => match subject {
                    Subject::Reference(r) => Person {
                        id: r.strip_prefix("Patient/").map(str::to_owned),
                        reference: Some(r),
                        identifiers: Vec::new(),
                    },
                    Subject::Identifier(i) => Person {
                        identifiers: vec![i],
                        ..Person::default()
                    },
                    Subject::Nobody => Person::default(),
                },
            };
            out.push((who, person, export));
        }
        out.into_iter().map(|(_, p, e)| (p, e)).collect()
    }
}
