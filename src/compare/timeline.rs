//! Drift over time: a series of window profiles (`skewer profile
//! --window`), each compared with a reference (the training profile, or
//! the first window) and with the window before it.
//!
//! A feature's verdict is one of:
//! - `"fast"`: some step (a window against the one before) drifted; `since`
//!   is the first such window;
//! - `"slow"`: no step drifted, but a window drifted against the
//!   reference; `since` is the first such window (a creep, each day like
//!   the one before);
//! - `"none"`.
//!
//! Where the profiles are labelled by the same column (`skewer profile
//! --label`), each feature also gets a verdict on its concept shift, from
//! the same comparisons, by the same rule.
//!
//! The windows' time column is left out: it moves by a window each time.
//!
//! "Drifted" is [`compare`]'s decision for each pair: the threshold and
//! the significance test together, so that sampling noise between small
//! windows is not flagged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{compare, CompareOptions, FeatureComparison};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::profile::DatasetProfile;

/// The timeline of a series of windows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The windows, in order: their start (or the profile's file name).
    pub windows: Vec<String>,
    /// What each window is compared with: "first window" or the
    /// reference's file name.
    pub reference: String,
    pub options: CompareOptions,
    /// Drifting features first (fast, then slow), each in the reference's
    /// order.
    pub features: Vec<FeatureTimeline>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureTimeline {
    pub name: String,
    /// "none", "slow" or "fast".
    pub drift: Drift,
    /// The window where the drift was first seen.
    pub since: Option<String>,
    /// Labelled profiles: the verdict on the feature's concept shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<Verdict>,
    pub series: Vec<Point>,
}

/// A verdict on one kind of shift, and the window where it was first seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub drift: Drift,
    pub since: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    Fast,
    Slow,
    None,
}

impl Drift {
    pub fn word(self) -> &'static str {
        match self {
            Drift::Fast => "fast",
            Drift::Slow => "slow",
            Drift::None => "none",
        }
    }
}

/// One window of a feature's series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub window: String,
    /// Against the reference (absent for the first window when it is the
    /// reference).
    pub vs_reference: Option<Step>,
    /// Against the window before (absent for the first).
    pub vs_previous: Option<Step>,
}

/// One comparison of a feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub linf: Option<f64>,
    pub ks: Option<f64>,
    pub drifted: bool,
    /// The error bounds of stored profiles leave the decision open.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub undecided: bool,
    /// Labelled profiles: the concept shift, and whether it drifted
    /// (both where the step has a concept, neither where it has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept_drifted: Option<bool>,
}

impl Step {
    /// The distance drawn and tabled: KS for numeric features, else
    /// L-infinity.
    pub fn distance(&self) -> Option<f64> {
        self.ks.or(self.linf)
    }

    fn of(f: &FeatureComparison) -> Step {
        Step {
            linf: f.metrics.linf,
            ks: f.metrics.ks,
            drifted: f.drifted,
            undecided: !f.undecided.is_empty(),
            concept: f.concept.as_ref().map(|c| c.value),
            concept_drifted: f.concept.as_ref().map(|c| c.drifted),
        }
    }
}

impl FeatureTimeline {
    /// The worse of the feature's verdicts (fast before slow before none).
    pub fn worst(&self) -> Drift {
        self.concept
            .as_ref()
            .map_or(self.drift, |c| c.drift.min(self.drift))
    }
}

/// The verdict of a series, where `drifted` says whether a step drifted:
/// fast where a window drifted against the one before, slow where only
/// against the reference.
fn verdict(series: &[Point], drifted: fn(&Step) -> bool) -> Verdict {
    let first = |pick: fn(&Point) -> &Option<Step>| {
        series
            .iter()
            .find(|p| pick(p).as_ref().is_some_and(drifted))
            .map(|p| p.window.clone())
    };
    let (drift, since) = match (first(|p| &p.vs_previous), first(|p| &p.vs_reference)) {
        (Some(w), _) => (Drift::Fast, Some(w)),
        (None, Some(w)) => (Drift::Slow, Some(w)),
        (None, None) => (Drift::None, None),
    };
    Verdict { drift, since }
}

impl Timeline {
    pub fn drifted(&self) -> bool {
        self.features.iter().any(|f| f.worst() != Drift::None)
    }

    pub fn undecided(&self) -> bool {
        let open = |s: &Option<Step>| s.as_ref().is_some_and(|s| s.undecided);
        self.features
            .iter()
            .flat_map(|f| &f.series)
            .any(|p| open(&p.vs_reference) || open(&p.vs_previous))
    }
}

/// Name and order profiles for [`timeline`]: a window's profile is named
/// by its start, another by the name given (its file's). Where all are
/// windows, they are sorted in time; windows of several columns or widths,
/// or two of one window, are an error.
pub fn in_order(
    mut windows: Vec<(String, DatasetProfile)>,
) -> Result<Vec<(String, DatasetProfile)>> {
    if windows.is_empty() {
        return Err(Error::InvalidOption(
            "no profiles to put in a timeline (an empty folder?)".into(),
        ));
    }
    // A profile that is no window's among windows (a training profile
    // left in the folder): it would be taken for a window.
    if windows.iter().any(|(_, p)| p.window.is_some()) {
        if let Some((name, _)) = windows.iter().find(|(_, p)| p.window.is_none()) {
            return Err(Error::InvalidOption(format!(
                "{name}: not a window's profile (as `skewer profile --window` writes them), \
                 among windows: give the windows alone, and a training profile as --reference"
            )));
        }
    }
    for (name, p) in &mut windows {
        if let Some(w) = &p.window {
            *name = w.start.clone();
        }
    }
    let kinds: std::collections::BTreeSet<(&str, &str)> = windows
        .iter()
        .filter_map(|(_, p)| p.window.as_ref())
        .map(|w| (w.column.as_str(), w.width.as_str()))
        .collect();
    if kinds.len() > 1 {
        let kinds: Vec<String> = kinds.iter().map(|(c, w)| format!("{c}={w}")).collect();
        return Err(Error::InvalidOption(format!(
            "the profiles are of windows of several kinds ({}): give one --window's profiles",
            kinds.join(", ")
        )));
    }
    if windows.iter().all(|(_, p)| p.window.is_some()) {
        windows.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = windows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(Error::InvalidOption(format!(
                "two profiles are of the window that starts at {}",
                w[0].0
            )));
        }
    }
    Ok(windows)
}

/// What a timeline leaves out, to say beside it: features of the windows
/// that the reference lacks (their steps against it are none), and why
/// steps get no concept though profiles are labelled (the reference
/// against the first window and each window against the one before, each
/// reason once: [`super::concept::label_note`]).
pub fn notes(
    windows: &[(String, &DatasetProfile)],
    reference: Option<(&str, &DatasetProfile)>,
) -> Vec<String> {
    let mut pairs: Vec<(&str, &DatasetProfile, &str, &DatasetProfile)> = Vec::new();
    if let (Some((n, r)), Some((w, p))) = (reference, windows.first()) {
        pairs.push((n, r, w, p));
    }
    for w in windows.windows(2) {
        pairs.push((&w[0].0, w[0].1, &w[1].0, w[1].1));
    }
    let mut notes: Vec<String> = Vec::new();
    if let Some((n, r)) = reference {
        let time = time_columns(windows);
        let mut missing: Vec<&str> = Vec::new();
        for (_, p) in windows {
            for f in &p.features {
                let name = f.name.as_str();
                if !time.contains(&name)
                    && !missing.contains(&name)
                    && !r.features.iter().any(|g| g.name == name)
                {
                    missing.push(name);
                }
            }
        }
        if !missing.is_empty() {
            notes.push(format!(
                "{n} has no column {}: those are not compared with it",
                missing.join(", ")
            ));
        }
    }
    for (a, x, b, y) in pairs {
        if let Some(n) = super::concept::label_note(a, x, b, y) {
            if !notes.contains(&n) {
                notes.push(n);
            }
        }
    }
    notes
}

/// The windows' time columns (`--window`'s), which are no features of a
/// timeline.
fn time_columns<'a>(windows: &[(String, &'a DatasetProfile)]) -> Vec<&'a str> {
    windows
        .iter()
        .filter_map(|(_, p)| Some(p.window.as_ref()?.column.as_str()))
        .collect()
}

/// Compare each of `windows` (name, profile; in time order) with the
/// `reference` (name, profile; the first window when absent) and with the
/// window before.
pub fn timeline(
    windows: &[(String, &DatasetProfile)],
    reference: Option<(&str, &DatasetProfile)>,
    opts: &CompareOptions,
    backend: &Backend,
) -> Result<Timeline> {
    opts.validate()?;
    let by_name = |c: super::Comparison| -> BTreeMap<String, Step> {
        c.features
            .iter()
            .map(|f| (f.name.clone(), Step::of(f)))
            .collect()
    };
    let (ref_name, ref_profile) = match (reference, windows.first()) {
        (Some((n, p)), _) => (n.to_string(), Some(p)),
        (None, Some((_, p))) => ("first window".to_string(), Some(*p)),
        (None, None) => ("first window".to_string(), None),
    };
    // The windows' features, in the reference's order, then any new
    // ones; not the windows' time column, which moves by a window each
    // time. A reference's column no window has is no feature of the
    // timeline; a window's column the reference lacks has no steps
    // against it (a note says so), rather than a creep from the start.
    let time = time_columns(windows);
    let in_windows = |name: &str| {
        !time.contains(&name)
            && windows
                .iter()
                .any(|(_, p)| p.features.iter().any(|f| f.name == name))
    };
    let mut names: Vec<String> = Vec::new();
    for p in ref_profile
        .into_iter()
        .chain(windows.iter().map(|(_, p)| *p))
    {
        for f in &p.features {
            if !names.contains(&f.name) && in_windows(&f.name) {
                names.push(f.name.clone());
            }
        }
    }
    if let Some((n, r)) = reference {
        if !names
            .iter()
            .any(|f| r.features.iter().any(|g| g.name == *f))
        {
            return Err(Error::InvalidOption(format!(
                "the reference {n} has none of the windows' columns"
            )));
        }
    }
    let mut vs_ref = Vec::with_capacity(windows.len());
    let mut vs_prev = Vec::with_capacity(windows.len());
    for (i, (_, p)) in windows.iter().enumerate() {
        vs_ref.push(match (reference, i) {
            (None, 0) => None,
            _ => match ref_profile {
                Some(r) => {
                    let mut steps = by_name(compare(r, p, opts, backend)?);
                    // A given reference's missing columns: no steps (a
                    // note says so). Against the first window, a new
                    // column is a change.
                    if reference.is_some() {
                        steps.retain(|name, _| r.features.iter().any(|f| f.name == *name));
                    }
                    Some(steps)
                }
                None => None,
            },
        });
        vs_prev.push(match i {
            0 => None,
            _ => Some(by_name(compare(windows[i - 1].1, p, opts, backend)?)),
        });
    }
    let mut features: Vec<FeatureTimeline> = names
        .iter()
        .map(|name| {
            let series: Vec<Point> = windows
                .iter()
                .enumerate()
                .map(|(i, (w, _))| Point {
                    window: w.clone(),
                    vs_reference: vs_ref[i].as_ref().and_then(|m| m.get(name).cloned()),
                    vs_previous: vs_prev[i].as_ref().and_then(|m| m.get(name).cloned()),
                })
                .collect();
            let Verdict { drift, since } = verdict(&series, |s| s.drifted);
            let labelled = series
                .iter()
                .flat_map(|p| [&p.vs_reference, &p.vs_previous])
                .any(|s| s.as_ref().is_some_and(|s| s.concept.is_some()));
            FeatureTimeline {
                name: name.clone(),
                drift,
                since,
                concept: labelled.then(|| verdict(&series, |s| s.concept_drifted == Some(true))),
                series,
            }
        })
        .collect();
    // Stable: each verdict keeps the reference's order.
    features.sort_by_key(|f| f.worst());
    Ok(Timeline {
        windows: windows.iter().map(|(w, _)| w.clone()).collect(),
        reference: ref_name,
        options: opts.clone(),
        features,
    })
}
