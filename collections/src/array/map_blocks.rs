//! `map_blocks`: a user function applied to every block.
//!
//! The function receives each block as an `ArrayD<T>` and returns the block of the result,
//! which must keep the block's shape (so the result's chunks are known without running it). It
//! runs as a closure task on the local schedulers; a block of the wrong shape, or a panic in
//! the function, is an error of that block's task, naming the block.

use std::sync::Arc;

use dusk_core::{BoxError, Data, FnOp, Op};
use ndarray::ArrayD;

use super::dtype::Element;
use super::error::ArrayError;
use super::{blockwise_node, fresh_token, Array};

impl<T: Element> Array<T> {
    /// Applies `f` to every block; `f` must return a block of the same shape.
    ///
    /// ```
    /// use dusk_collections::array;
    /// use dusk_scheduler::Compute;
    /// let x = array::arange(5, 2).unwrap();
    /// let y = x.map_blocks(|b: &ndarray::ArrayD<i64>| b.mapv(|v| (v * v) as f64)).unwrap();
    /// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[0.0, 1.0, 4.0, 9.0, 16.0]);
    /// ```
    pub fn map_blocks<U, F>(&self, f: F) -> Result<Array<U>, ArrayError>
    where
        U: Element,
        F: Fn(&ArrayD<T>) -> ArrayD<U> + Send + Sync + 'static,
    {
        let n = &self.node;
        let f = Arc::new(f);
        let src = n.clone();
        let node = blockwise_node(
            fresh_token("map-blocks"),
            n.shape.clone(),
            n.chunks.clone(),
            U::DTYPE,
            vec![n.clone()],
            move |_, idx| {
                let f = f.clone();
                let key = src.key(idx);
                let want = src.block_shape(idx);
                let op = FnOp::new("map-blocks", move |inputs: Vec<Data>| {
                    let block = inputs
                        .first()
                        .ok_or("map_blocks: missing input")?
                        .as_array()?;
                    let a =
                        T::from_block(block.clone()).ok_or("map_blocks: block of another type")?;
                    let out = f(&a.into_owned());
                    if out.shape() != want.as_slice() {
                        return Err(Box::new(ArrayError::Block {
                            key: key.to_string(),
                            message: format!(
                                "map_blocks returned shape {:?} for a block of shape {:?}",
                                out.shape(),
                                want
                            ),
                        }) as BoxError);
                    }
                    Ok(Data::Array(U::into_block(out.into_shared())))
                });
                (Arc::new(op) as Arc<dyn Op>, vec![src.key(idx)])
            },
        );
        Ok(self.derive(node))
    }
}
