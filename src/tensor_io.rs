//! f32 tensors in safetensors files: the one place that turns candle tensors into bytes and back
//! and reads a file's JSON header entry (submodel, space and checkpoint files all use it).

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

/// Little-endian f32 bytes of `t` (any shape, row-major).
pub fn tensor_bytes(t: &Tensor) -> candle_core::Result<Vec<u8>> {
    let v = t.flatten_all()?.to_vec1::<f32>()?;
    Ok(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// f32 values of little-endian bytes.
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// A tensor from an f32 safetensors view.
pub fn from_view(view: &TensorView, dev: &Device) -> candle_core::Result<Tensor> {
    if view.dtype() != Dtype::F32 {
        candle_core::bail!("expected f32 data, found {:?}", view.dtype());
    }
    Tensor::from_vec(f32s(view.data()), view.shape(), dev)
}

/// Serializes named f32 tensors with one metadata entry `key = header`.
pub fn serialize<'a>(
    tensors: impl IntoIterator<Item = (String, &'a Tensor)>,
    key: &str,
    header: String,
) -> Result<Vec<u8>, String> {
    let parts = tensors
        .into_iter()
        .map(|(k, t)| Ok((k, t.dims().to_vec(), tensor_bytes(t)?)))
        .collect::<candle_core::Result<Vec<_>>>()
        .map_err(|e| e.to_string())?;
    let views = parts
        .iter()
        .map(|(k, shape, b)| TensorView::new(Dtype::F32, shape.clone(), b).map(|v| (k.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    safetensors::serialize(views, Some(HashMap::from([(key.to_string(), header)])))
        .map_err(|e| e.to_string())
}

/// The metadata entry `key` of a safetensors file's header, if the file has one.
pub fn header(bytes: &[u8], key: &str) -> Result<Option<String>, String> {
    let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
    Ok(meta.metadata().as_ref().and_then(|m| m.get(key)).cloned())
}

/// Every tensor of a safetensors file (f32 only), by name.
pub fn read_all(
    bytes: &[u8],
    dev: &Device,
) -> Result<std::collections::BTreeMap<String, Tensor>, String> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            from_view(&view, dev)
                .map(|t| (name.clone(), t))
                .map_err(|e| format!("{name}: {e}"))
        })
        .collect()
}
