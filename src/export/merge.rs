//! Folds a LoRA submodel into the base: `W' = W + (α/r)·(A·B)ᵀ` for every adapted projection
//! (attune computes `x·A·B·α/r` beside `x·Wᵀ`; HF weights are `[d_out, d_in]`).

use std::collections::BTreeMap;

use super::{ExportError, Format, Merged};
use crate::model::Whisper;
use crate::model::weights::RawTensor;
use crate::submodel::{Kind, Submodel, peft};

/// The encoder's sinusoidal position table: recomputed by every writer, not a weight.
pub const ENCODER_POSITIONS: &str = "model.encoder.embed_positions.weight";

/// Refuses submodels whose adapters have no place in Whisper's layers (residual, embedding).
pub fn check_mergeable(sub: &Submodel, format: Format) -> Result<(), ExportError> {
    match sub.table.spec.kind {
        Kind::Lora => Ok(()),
        kind => Err(ExportError::NotMergeable {
            id: sub.meta.id.clone(),
            kind,
            speaker: sub.meta.speaker.clone(),
            format,
        }),
    }
}

/// HF weight name adapted by a LoRA tensor stem, e.g. `dec.1.cross.v` →
/// `model.decoder.layers.1.encoder_attn.v_proj.weight` (the PEFT export's own key mapping).
pub fn hf_weight(stem: &str) -> Option<String> {
    let key = peft::peft_key(&format!("{stem}.a"))?;
    let module = key
        .strip_prefix("base_model.model.")?
        .strip_suffix(".lora_A.weight")?;
    Some(format!("{module}.weight"))
}

fn raw(t: &candle_core::Tensor) -> Result<RawTensor, ExportError> {
    Ok(RawTensor {
        shape: t.dims().to_vec(),
        data: t.flatten_all()?.to_vec1::<f32>()?,
    })
}

/// Each adapted weight's update `(α/r)·(A·B)ᵀ: [d_out, d_in]`, by HF weight name.
pub fn lora_deltas(sub: &Submodel) -> Result<BTreeMap<String, RawTensor>, ExportError> {
    check_mergeable(sub, Format::Ct2)?;
    let spec = &sub.table.spec;
    let scale = spec.alpha / spec.lora_rank() as f64;
    let mut out = BTreeMap::new();
    for (name, a) in &sub.table.tensors {
        let Some(stem) = name.strip_suffix(".a") else {
            continue;
        };
        let b = sub
            .table
            .tensors
            .get(&format!("{stem}.b"))
            .ok_or_else(|| ExportError::Missing(format!("{stem}.b")))?;
        let target = hf_weight(stem).ok_or_else(|| ExportError::Shape {
            what: format!("LoRA tensor {name} has no Whisper projection"),
        })?;
        // Row 0 of the one-speaker table: A [d_in, r], B [r, d_out].
        let delta = (a.get(0)?.matmul(&b.get(0)?)?.t()? * scale)?;
        out.insert(target, raw(&delta.contiguous()?)?);
    }
    Ok(out)
}

/// The base's weights as HF-named f32 tensors (encoder positions left out).
pub fn base_tensors(model: &Whisper) -> Result<BTreeMap<String, RawTensor>, ExportError> {
    model
        .weights
        .tensors
        .iter()
        .filter(|(name, _)| name.as_str() != ENCODER_POSITIONS)
        .map(|(name, t)| Ok((name.clone(), raw(t)?)))
        .collect()
}

/// Adds every delta to its weight (shapes must match).
pub fn apply(
    tensors: &mut BTreeMap<String, RawTensor>,
    deltas: &BTreeMap<String, RawTensor>,
) -> Result<(), ExportError> {
    for (name, d) in deltas {
        let w = tensors
            .get_mut(name)
            .ok_or_else(|| ExportError::Missing(name.clone()))?;
        if w.shape != d.shape {
            return Err(ExportError::Shape {
                what: format!("{name}: base {:?}, submodel update {:?}", w.shape, d.shape),
            });
        }
        w.data.iter_mut().zip(&d.data).for_each(|(w, d)| *w += d);
    }
    Ok(())
}

/// The base `model` with the LoRA submodel `sub` merged in; `tokenizer` is the base's
/// `tokenizer.json`. `format` names the target in the refusal of a non-LoRA submodel.
pub fn merge(
    model: &Whisper,
    sub: &Submodel,
    tokenizer: Vec<u8>,
    format: Format,
) -> Result<Merged, ExportError> {
    check_mergeable(sub, format)?;
    let mut tensors = base_tensors(model)?;
    apply(&mut tensors, &lora_deltas(sub)?)?;
    Ok(Merged {
        config: model.config.clone(),
        tensors,
        tokenizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_name_the_projection_they_adapt() {
        assert_eq!(
            hf_weight("enc.0.self.q").unwrap(),
            "model.encoder.layers.0.self_attn.q_proj.weight"
        );
        assert_eq!(
            hf_weight("dec.3.cross.v").unwrap(),
            "model.decoder.layers.3.encoder_attn.v_proj.weight"
        );
        assert_eq!(hf_weight("res.0"), None);
    }
}
