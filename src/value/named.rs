//! [`named_enum!`]: an enum with one list of `Variant => "name"`, from which its `ALL` and
//! `name()` come. It lives on the model floor's lowest module so that value, names and spec all
//! use it without a circle.

/// Defines an enum whose variants each have one name (the serde name a job file writes), with
/// `ALL` (every variant, in declaration order) and `name()` from that one list, so the two
/// cannot drift apart; a unit test holds each `name()` to the serde name. Attributes and doc
/// comments (of the enum and of each variant) pass through, so the derived JSON Schema is
/// unchanged.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The name a job file writes.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }
    };
}
pub(crate) use named_enum;
