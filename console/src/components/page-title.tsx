/** Sets the document's title for a page ("Conversations · openconvai"). */
import { useEffect } from "react";

export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · openconvai` : "openconvai";
  }, [title]);
}
