//! One host handle of an object reference, shared by the references that
//! clone it and by the codec while it decodes a value.

use std::cell::OnceCell;

use crate::bindings::wrun::runtime::types as wit;
use crate::Id;

/// One host handle, with its id fetched at most once.
pub(crate) struct Handle {
    pub(crate) raw: wit::ObjectRef,
    pub(crate) id: OnceCell<Id>,
}

impl Handle {
    pub(crate) fn new(raw: wit::ObjectRef) -> Self {
        Handle {
            raw,
            id: OnceCell::new(),
        }
    }
}
