import type { ComponentChildren } from 'preact'
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'

export interface VirtualListProps<T> {
  items: T[]
  keyOf: (item: T) => string
  /** a first guess of a row's height before it has been measured */
  estimate: (item: T) => number
  render: (item: T) => ComponentChildren
  /** called when the user scrolls near the top (to load older rows) */
  onNearTop?: () => void
  /** told which rows are rendered (to fetch what they need) */
  onRange?: (first: number, last: number) => void
  /** scroll this key into view once (e.g. a search hit) */
  focusKey?: string
  label: string
  overscanPx?: number
}

/**
 * A list that keeps only the rows in and near the viewport in the DOM, so a
 * chat of 10,000 messages costs the same to scroll as one of 50. Rows may have
 * any height: each is measured once it is rendered (ResizeObserver) and the
 * guess is replaced. The view sticks to the bottom while the user is there (new
 * messages scroll into view) and otherwise keeps the row at the top of the
 * viewport in place when rows above it change (older messages loaded, images
 * measured).
 */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, keyOf, estimate, render, onNearTop, onRange, focusKey, label } = props
  const overscan = props.overscanPx ?? 600
  const scroller = useRef<HTMLDivElement>(null)
  const heights = useRef(new Map<string, number>())
  const [version, setVersion] = useState(0)
  const [scrollTop, setScrollTop] = useState(0)
  const [viewport, setViewport] = useState(800)
  const atBottom = useRef(true)
  // Scrolled away from the latest: offer to jump back.
  const [away, setAway] = useState(false)
  const anchor = useRef<{ key: string; offset: number } | null>(null)
  const focused = useRef<string | undefined>(undefined)

  const { keys, offsets, total } = useMemo(() => {
    const keys = items.map(keyOf)
    const offsets = new Float64Array(items.length + 1)
    for (let i = 0; i < items.length; i++) {
      offsets[i + 1] = offsets[i] + (heights.current.get(keys[i]) ?? estimate(items[i]))
    }
    return { keys, offsets, total: offsets[items.length] }
    // version: heights changed
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [items, version])

  const indexAt = (y: number) => {
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (offsets[mid + 1] <= y) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  const first = indexAt(Math.max(0, scrollTop - overscan))
  const last = Math.min(items.length, indexAt(scrollTop + viewport + overscan) + 1)

  // Measure rendered rows.
  const observer = useRef<ResizeObserver | null>(null)
  if (!observer.current && typeof ResizeObserver !== 'undefined') {
    observer.current = new ResizeObserver((entries) => {
      let changed = false
      for (const e of entries) {
        const el = e.target as HTMLElement
        const k = el.dataset.key!
        const h = el.offsetHeight
        if (h > 0 && heights.current.get(k) !== h) {
          heights.current.set(k, h)
          changed = true
        }
      }
      if (changed) setVersion((v) => v + 1)
    })
  }
  // One stable ref callback per key, so a re-render does not re-observe rows,
  // and a row that leaves the window is no longer observed.
  const refs = useRef(new Map<string, (el: HTMLElement | null) => void>())
  const rowRef = (k: string) => {
    let f = refs.current.get(k)
    if (!f) {
      let seen: HTMLElement | null = null
      f = (el: HTMLElement | null) => {
        if (el) {
          seen = el
          observer.current?.observe(el)
        } else {
          if (seen) observer.current?.unobserve(seen)
          refs.current.delete(k)
        }
      }
      refs.current.set(k, f)
    }
    return f
  }
  useLayoutEffect(() => () => observer.current?.disconnect(), [])

  // After every layout change: stay at the bottom, or keep the anchor row still.
  useLayoutEffect(() => {
    const el = scroller.current
    if (!el) return
    if (viewport !== el.clientHeight) setViewport(el.clientHeight)
    if (focusKey && focused.current !== focusKey) {
      const i = keys.indexOf(focusKey)
      if (i >= 0) {
        focused.current = focusKey
        atBottom.current = false
        el.scrollTop = Math.max(0, offsets[i] - el.clientHeight / 3)
        setScrollTop(el.scrollTop)
        return
      }
    }
    if (atBottom.current) {
      el.scrollTop = el.scrollHeight
    } else if (anchor.current) {
      const i = keys.indexOf(anchor.current.key)
      if (i >= 0) {
        const want = offsets[i] + anchor.current.offset
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want
      }
    }
    if (el.scrollTop !== scrollTop) setScrollTop(el.scrollTop)
  }, [total, items])

  const onScroll = () => {
    const el = scroller.current!
    const top = el.scrollTop
    atBottom.current = top + el.clientHeight >= el.scrollHeight - 24
    const far = top + el.clientHeight < el.scrollHeight - el.clientHeight / 2
    if (far !== away) setAway(far)
    const i = indexAt(top)
    if (i < items.length) anchor.current = { key: keys[i], offset: top - offsets[i] }
    setScrollTop(top)
    if (top < overscan && onNearTop) onNearTop()
  }

  useLayoutEffect(() => {
    onRange?.(first, last)
  }, [first, last, items])

  const rows = []
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={keys[i]} data-key={keys[i]} ref={rowRef(keys[i])} class="vrow" style={{ transform: `translateY(${offsets[i]}px)` }}>
        {render(items[i])}
      </div>,
    )
  }
  const jump = () => {
    const el = scroller.current!
    atBottom.current = true
    el.scrollTop = el.scrollHeight
    setAway(false)
  }
  return (
    <div class="vwrap">
      <div ref={scroller} class="vlist" role="log" aria-label={label} aria-live="polite" tabIndex={0} onScroll={onScroll}>
        <div class="vinner" style={{ height: `${total}px` }}>
          {rows}
        </div>
      </div>
      {away && (
        <button class="jump-latest" aria-label="Jump to latest" onClick={jump}>
          ↓ Jump to latest
        </button>
      )}
    </div>
  )
}
