//! Where US ZIP codes are: city, state, latitude/longitude and the point on the ZIP page's map,
//! read at start-up from `vendor/geo/zip-places.csv`, which `scripts/build-geo.mjs` builds from
//! the npm `zipcodes` package (map points in the frame of us-atlas' Albers USA state outlines).

use std::{collections::HashMap, path::Path};

use crate::platform::error::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct ZipPlace {
    pub state: String,
    pub city: String,
    /// On the map; `None` outside it (Puerto Rico, territories, military ZIPs).
    pub map_point: Option<(f32, f32)>,
}

/// Every known ZIP. Empty when the data file is not installed: ZIPs are then still accepted, just
/// not placed on the map, and the page says how to install it.
#[derive(Clone, Debug, Default)]
pub struct ZipPlaces {
    by_zip: HashMap<String, ZipPlace>,
}

impl ZipPlaces {
    pub fn load(path: &Path) -> Result<ZipPlaces> {
        let bytes = std::fs::read(path).map_err(|e| Error::Internal(format!("cannot read {}: {e}", path.display())))?;
        Self::from_csv(&bytes).map_err(|e| Error::Internal(format!("{}: {e}", path.display())))
    }

    /// Columns `zip,state,city,latitude,longitude,map_x,map_y` (map point empty when off the map).
    pub fn from_csv(bytes: &[u8]) -> Result<ZipPlaces> {
        let mut rdr = csv::Reader::from_reader(bytes);
        let mut by_zip = HashMap::new();
        for (i, row) in rdr.records().enumerate() {
            let row = row.map_err(|e| Error::invalid(format!("line {}: {e}", i + 2)))?;
            let (Some(zip), Some(state), Some(city)) = (row.get(0), row.get(1), row.get(2)) else {
                return Err(Error::invalid(format!("line {}: expected zip,state,city,…", i + 2)));
            };
            let coord = |j: usize| row.get(j).and_then(|v| v.parse::<f32>().ok());
            let map_point = coord(5).zip(coord(6));
            by_zip.insert(zip.to_owned(), ZipPlace { state: state.to_owned(), city: city.to_owned(), map_point });
        }
        Ok(ZipPlaces { by_zip })
    }

    pub fn get(&self, zip: &str) -> Option<&ZipPlace> {
        self.by_zip.get(zip)
    }

    pub fn is_empty(&self) -> bool {
        self.by_zip.is_empty()
    }

    pub fn len(&self) -> usize {
        self.by_zip.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_parse_with_and_without_map_points() {
        let places = ZipPlaces::from_csv(
            b"zip,state,city,latitude,longitude,map_x,map_y\n78701,TX,Austin,30.27,-97.74,463.9,-497.4\n00601,PR,Adjuntas,18.16,-66.72,,\n",
        )
        .unwrap();
        assert_eq!(places.len(), 2);
        assert_eq!(places.get("78701").unwrap().map_point, Some((463.9, -497.4)));
        assert_eq!(places.get("00601").unwrap().map_point, None);
        assert_eq!(places.get("00601").unwrap().state, "PR");
        assert!(places.get("99999").is_none());
        assert!(ZipPlaces::from_csv(b"zip,state\n78701\n").is_err());
    }
}
