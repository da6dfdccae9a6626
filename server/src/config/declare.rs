//! The `settings!` macro: the one place a setting is written. A row names the `Config` field,
//! its type and default, the TOML key (the variable is `CODESOURCE_` + the key in upper case,
//! so the two cannot drift apart), its kind (how a variable's text becomes the TOML value, and
//! whether a `*_FILE` twin exists), the default as the docs show it, the reader that validates
//! the value, and, as its doc comment, the meaning in docs/operating.md's table. From the rows
//! come the struct, `Config::defaults`, the known variable names, the keys the TOML file may
//! hold, the reading itself and the docs table (`Config::docs_table`, checked by a test).
//!
//! A macro rather than a layering library (figment, config-rs): those read every variable as
//! TOML-like text (`[a]` becomes a list, `"x"` loses its quotes, which would change a secret),
//! know neither `*_FILE` nor unknown-variable warnings, name a bad value by its key instead of
//! its variable, and quote it in their errors; the glue that restores each of these would be
//! larger than the loader this macro writes.

/// One setting as the docs table and the name checks see it.
pub(super) struct Setting {
    /// The TOML key; the variable is `CODESOURCE_` + this in upper case.
    pub(super) key: &'static str,
    /// Whether `*_FILE` (and `<key>_file`) may give it instead.
    pub(super) secret: bool,
    /// The docs table's Default column.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) default: &'static str,
    /// The docs table's Meaning column: the row's doc comment.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) meaning: &'static str,
}

macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $vis:vis $field:ident : $ty:ty = $default:expr,
                    $key:ident : $kind:ty, $shown:literal, $read:expr;
            )*
        }
        derived {
            $(
                $(#[$dmeta:meta])*
                $dvis:vis $dfield:ident : $dty:ty = $ddefault:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[doc = $doc])* $vis $field: $ty, )*
            $( $(#[$dmeta])* $dvis $dfield: $dty, )*
        }

        impl $name {
            /// Defaults for everything: local mode, `./data`.
            pub fn defaults() -> Self {
                $name {
                    $( $field: $default, )*
                    $( $dfield: $ddefault, )*
                }
            }

            /// Every setting, in the docs table's order.
            const SETTINGS: &'static [$crate::config::declare::Setting] = &[
                $(
                    $crate::config::declare::Setting {
                        key: stringify!($key),
                        secret: <$kind as $crate::config::sources::Kind>::SECRET,
                        default: $shown,
                        meaning: concat!($($doc, "\n",)*),
                    },
                )*
            ];

            /// Reads and checks each setting given in the environment or the file; the others
            /// keep their defaults.
            fn read_settings(
                &mut self,
                layers: &$crate::config::sources::Layers,
            ) -> anyhow::Result<()> {
                $(
                    let name = $crate::config::sources::env_name(stringify!($key));
                    if let Some(v) = <$kind as $crate::config::sources::Kind>::get(
                        layers,
                        stringify!($key),
                        &name,
                    )? {
                        let read: fn(
                            <$kind as $crate::config::sources::Kind>::Value,
                            &str,
                        ) -> anyhow::Result<$ty> = $read;
                        self.$field = read(v, &name)?;
                    }
                )*
                Ok(())
            }
        }
    };
}
