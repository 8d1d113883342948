//! Statuses, stages and kinds that the database stores as text, as Rust enums with one mapping
//! to their SQL text. [`sql_text_enum!`](crate::sql_text_enum) gives each: `as_str` (bind it),
//! `ALL`, `FromStr` (an unknown text is a 400 that lists the known ones), `TryFrom<String>` (for
//! `#[sqlx(try_from = "String")]` on row structs), `Display`, serde as the text, and comparison
//! with `&str` so the text stays the one spelling everywhere.

/// `sql_text_enum!(pub enum Stage ("stage") { New = "new", Won = "won" })`.
#[macro_export]
macro_rules! sql_text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text stored in the database (and sent on the wire).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::Error> {
                match s.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err($crate::Error::invalid(format!(
                        concat!("Unknown ", $what, " {:?}: use one of {}."),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::Error;
            fn try_from(s: String) -> ::std::result::Result<Self, $crate::Error> {
                s.parse()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(|e: $crate::Error| <D::Error as ::serde::de::Error>::custom(e))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::sql_text_enum!(enum Colour ("colour") { Red = "red", DarkBlue = "dark_blue" });

    #[test]
    fn one_text_per_value_both_ways() {
        assert_eq!(Colour::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(), ["red", "dark_blue"]);
        assert_eq!("dark_blue".parse::<Colour>().unwrap(), Colour::DarkBlue);
        assert_eq!(Colour::Red, "red");
        let e = "blue".parse::<Colour>().unwrap_err();
        assert_eq!(e.to_string(), "Unknown colour \"blue\": use one of red, dark_blue.");
        assert_eq!(serde_json::to_string(&Colour::DarkBlue).unwrap(), "\"dark_blue\"");
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
    }
}
