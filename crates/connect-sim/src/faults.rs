//! Fault injection: random 500s, added latency, and scripted failures of the next N calls.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, FaultSpecError};
use crate::operation::Operation;

/// Faults applied to Connect API calls (never to the admin endpoints).
///
/// JSON: `{"errorProbability": 0.1, "latencyMs": 250,
/// "scripted": [{"operation": "CreateUser", "error": "ThrottlingException", "count": 3}]}`.
///
/// Text (CLI `--faults`): comma-separated `error-rate=P`, `latency=DURATION` (`250ms`, `2s`,
/// or a bare number of milliseconds) and `fail=OPERATION:ERROR:COUNT` (`*` for any
/// operation), e.g. `error-rate=0.05,latency=100ms,fail=CreateUser:ThrottlingException:3`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    /// Probability (0..=1) that a call fails with 500 `InternalServiceException`.
    #[serde(default)]
    pub error_probability: f64,
    /// Delay added before every call is handled.
    #[serde(default, rename = "latencyMs", with = "millis")]
    pub latency: Duration,
    /// Failures to serve before anything else, consumed in order of matching.
    #[serde(default)]
    pub scripted: Vec<ScriptedFault>,
}

/// "Fail the next `count` calls of `operation` with `error`".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptedFault {
    /// The operation to fail; `None` (JSON null or absent) fails any operation.
    #[serde(default)]
    pub operation: Option<Operation>,
    /// The error to answer with.
    pub error: ErrorKind,
    /// How many more calls to fail.
    pub count: u32,
}

impl ScriptedFault {
    /// Fail the next `count` calls of `operation` with `error`.
    pub fn new(operation: Operation, error: ErrorKind, count: u32) -> Self {
        ScriptedFault {
            operation: Some(operation),
            error,
            count,
        }
    }

    /// Fail the next `count` calls of any operation with `error`.
    pub fn any_operation(error: ErrorKind, count: u32) -> Self {
        ScriptedFault {
            operation: None,
            error,
            count,
        }
    }
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Sets the probability of a 500 (builder style).
    pub fn error_probability(mut self, probability: f64) -> Self {
        self.error_probability = probability;
        self
    }

    /// Sets the added latency (builder style).
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Adds a scripted failure (builder style).
    pub fn fail_next(mut self, fault: ScriptedFault) -> Self {
        self.scripted.push(fault);
        self
    }

    /// The probability must be within 0..=1.
    pub fn check(&self) -> Result<(), FaultSpecError> {
        if !(0.0..=1.0).contains(&self.error_probability) {
            return Err(FaultSpecError::Probability(self.error_probability));
        }
        Ok(())
    }

    /// Consumes one scripted failure matching `operation`, if any is left.
    pub(crate) fn take_scripted(&mut self, operation: Operation) -> Option<ErrorKind> {
        let index = self
            .scripted
            .iter()
            .position(|f| f.count > 0 && f.operation.is_none_or(|op| op == operation))?;
        let fault = self.scripted.get_mut(index)?;
        fault.count -= 1;
        let error = fault.error;
        if fault.count == 0 {
            self.scripted.remove(index);
        }
        Some(error)
    }
}

impl FromStr for Faults {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::none();
        for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| FaultSpecError::Item(item.to_owned()))?;
            match key.trim() {
                "error-rate" => {
                    faults.error_probability = value
                        .trim()
                        .parse()
                        .map_err(|_| FaultSpecError::Value(value.to_owned()))?;
                }
                "latency" => faults.latency = parse_duration(value)?,
                "fail" => faults.scripted.push(parse_scripted(value)?),
                _ => return Err(FaultSpecError::Item(item.to_owned())),
            }
        }
        faults.check()?;
        Ok(faults)
    }
}

fn parse_scripted(value: &str) -> Result<ScriptedFault, FaultSpecError> {
    let parts: Vec<&str> = value.split(':').map(str::trim).collect();
    let [operation, error, count] = parts.as_slice() else {
        return Err(FaultSpecError::Item(format!("fail={value}")));
    };
    let operation = match *operation {
        "*" => None,
        name => Some(name.parse::<Operation>()?),
    };
    Ok(ScriptedFault {
        operation,
        error: error.parse()?,
        count: count
            .parse()
            .map_err(|_| FaultSpecError::Value((*count).to_owned()))?,
    })
}

/// `250ms`, `2s`, `1.5s`, or a bare number of milliseconds.
pub fn parse_duration(text: &str) -> Result<Duration, FaultSpecError> {
    let text = text.trim();
    let invalid = || FaultSpecError::Value(text.to_owned());
    let (number, scale_ms) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1.0)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1000.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number.trim().parse().map_err(|_| invalid())?;
    if !value.is_finite() || value < 0.0 {
        return Err(invalid());
    }
    Duration::try_from_secs_f64(value * scale_ms / 1000.0).map_err(|_| invalid())
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_parses_every_item() {
        let faults: Faults =
            "error-rate=0.25, latency=150ms, fail=CreateUser:ThrottlingException:2, fail=*:InternalServiceException:1"
                .parse()
                .unwrap();
        assert_eq!(faults.error_probability, 0.25);
        assert_eq!(faults.latency, Duration::from_millis(150));
        assert_eq!(
            faults.scripted,
            vec![
                ScriptedFault::new(Operation::CreateUser, ErrorKind::ThrottlingException, 2),
                ScriptedFault::any_operation(ErrorKind::InternalServiceException, 1),
            ]
        );
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("40"), Ok(Duration::from_millis(40)));
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(matches!(
            "error-rate=2".parse::<Faults>(),
            Err(FaultSpecError::Probability(_))
        ));
        assert!(matches!(
            "boom=1".parse::<Faults>(),
            Err(FaultSpecError::Item(_))
        ));
        assert!(matches!(
            "latency=soon".parse::<Faults>(),
            Err(FaultSpecError::Value(_))
        ));
        assert!(matches!(
            "fail=Nope:ThrottlingException:1".parse::<Faults>(),
            Err(FaultSpecError::Operation(_))
        ));
        assert!(matches!(
            "fail=CreateUser:Oops:1".parse::<Faults>(),
            Err(FaultSpecError::ErrorKind(_))
        ));
        assert!(matches!(
            "fail=CreateUser:1".parse::<Faults>(),
            Err(FaultSpecError::Item(_))
        ));
    }

    #[test]
    fn scripted_faults_are_consumed_per_operation() {
        let mut faults = Faults::none()
            .fail_next(ScriptedFault::new(
                Operation::CreateUser,
                ErrorKind::ThrottlingException,
                2,
            ))
            .fail_next(ScriptedFault::any_operation(
                ErrorKind::InternalServiceException,
                1,
            ));
        assert_eq!(
            faults.take_scripted(Operation::DeleteUser),
            Some(ErrorKind::InternalServiceException)
        );
        assert_eq!(faults.take_scripted(Operation::DeleteUser), None);
        assert_eq!(
            faults.take_scripted(Operation::CreateUser),
            Some(ErrorKind::ThrottlingException)
        );
        assert_eq!(
            faults.take_scripted(Operation::CreateUser),
            Some(ErrorKind::ThrottlingException)
        );
        assert_eq!(faults.take_scripted(Operation::CreateUser), None);
        assert!(faults.scripted.is_empty());
    }

    #[test]
    fn json_form_round_trips() {
        let json = r#"{"errorProbability":0.5,"latencyMs":20,"scripted":[{"operation":"DescribeUser","error":"ResourceNotFoundException","count":1}]}"#;
        let faults: Faults = serde_json::from_str(json).unwrap();
        assert_eq!(faults.latency, Duration::from_millis(20));
        assert_eq!(serde_json::to_string(&faults).unwrap(), json);
    }
}
