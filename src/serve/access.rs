//! The access log: every view of a dossier (its page, an original, a page image) is written
//! before the view is sent; a view that cannot be logged is not shown.

use super::app::Desk;
use super::security::Who;
use crate::index::desk::AccessEntry;
use crate::index::IndexError;

pub(crate) fn log(
    desk: &Desk,
    who: &Who,
    dossier_code: &str,
    what: &str,
) -> Result<(), IndexError> {
    let entry = AccessEntry {
        at: crate::timefmt::now_rfc3339(),
        who: who.user.clone(),
        dossier_code: dossier_code.to_owned(),
        what: what.to_owned(),
    };
    desk.write(|index| index.log_access(&entry))
}
