"""The repositories, written once over a `RowStore`: `base.TableRepository` does the generic
work; each context's module holds one small subclass per aggregate with its finders, rules
(`_before_write`, `_before_delete`) and events (`_after_write`)."""
