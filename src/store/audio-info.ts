/** The audio recording a conversation has in the blob store. */
export interface AudioInfo {
  blobKey: string;
  contentType: string;
  size: number;
}
