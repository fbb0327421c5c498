//! `--scheduler tcp://HOST:PORT` for programs: run the same program locally or on a cluster.
//!
//! Dask programs switch from the local scheduler to a cluster by creating a `Client`; every
//! `.compute()` after that runs there. [`take_scheduler_flag`] gives a command-line program
//! that switch as a flag, so `cargo run --example dataframe -- --scheduler tcp://host:8786`
//! prints exactly what the local run prints, computed by the cluster's workers.

use std::ffi::OsString;

use dusk_scheduler::distributed::{Client, DistributedError};

/// Removes `--scheduler ADDRESS` (or `--scheduler=ADDRESS`) from `args` and, when it was
/// there, connects to that scheduler and makes the client the default for `.compute()`.
/// Returns the other arguments, in order, and the client (keep it alive while computing).
///
/// ```
/// use std::ffi::OsString;
/// let args = vec![OsString::from("data/*.csv")];
/// let (rest, client) = dusk::take_scheduler_flag(args).unwrap();
/// assert_eq!(rest, vec![OsString::from("data/*.csv")]);
/// assert!(client.is_none());
///
/// let bad = vec![OsString::from("--scheduler")];
/// assert!(dusk::take_scheduler_flag(bad).is_err());
/// ```
pub fn take_scheduler_flag(
    args: impl IntoIterator<Item = OsString>,
) -> Result<(Vec<OsString>, Option<Client>), DistributedError> {
    let mut rest = Vec::new();
    let mut address = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--scheduler" {
            let value = args.next().ok_or_else(|| {
                DistributedError::BadAddress("--scheduler needs an address".to_string())
            })?;
            address = Some(value.to_string_lossy().into_owned());
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix("--scheduler=")) {
            address = Some(value.to_string());
        } else {
            rest.push(arg);
        }
    }
    let client = match address {
        Some(address) => {
            let client = Client::connect(&address)?;
            client.set_as_default();
            Some(client)
        }
        None => None,
    };
    Ok((rest, client))
}
